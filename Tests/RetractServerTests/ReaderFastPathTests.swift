import Foundation
import Hummingbird
import NIOCore
import Testing

@testable import RetractServer

/// The open path's shortcuts give exactly what the general code gives: the cached
/// interstitial is the Mustache page byte for byte, and the hand-read key body is what
/// `JSONDecoder` reads (or is refused, leaving it to `JSONDecoder`).
@Suite("Reader fast paths")
struct ReaderFastPathTests {
    typealias Reader = ReaderController<BasicRequestContext>

    func bodyText(_ response: Response) async throws -> String {
        let writer = CollectingWriter()
        try await response.body.write(writer)
        return String(buffer: await writer.buffer)
    }

    @Test("the cached interstitial is the Mustache-rendered page, in both locales, with the token in every place")
    func cachedInterstitialMatchesMustache() async throws {
        let pages = try await PageRenderer.load()
        let token = "AbC-_09zZyXwVuTsRqPoNmLkJiHgFeDcBa0123456789"
        for locale in [PageLocale.en, .zhHans] {
            let cached = pages.interstitial(token: token, locale: locale)
            let rendered = pages.page(
                "interstitial", locale: locale, title: PageStrings.table(locale)["interstitial_title"] ?? "",
                values: ["token": token], script: "open.js")
            let cachedHTML = try await bodyText(cached)
            let renderedHTML = try await bodyText(rendered)
            let same = cachedHTML == renderedHTML
            #expect(same)
            #expect(cachedHTML.contains("/m/\(token)/open"))
            #expect(!cachedHTML.contains(PageRenderer.tokenPlaceholder))
            #expect(cached.status == rendered.status)
            #expect(cached.headers[.contentType] == rendered.headers[.contentType])
            #expect(cached.headers[.contentLanguage] == locale.rawValue)
        }
    }

    @Test("a token with characters outside base64url is rendered by Mustache, escaped")
    func unusualTokenFallsBackToMustache() async throws {
        let pages = try await PageRenderer.load()
        let html = try await bodyText(pages.interstitial(token: "a<b>\"c", locale: .en))
        #expect(!html.contains("a<b>"))
        #expect(html.contains("a&lt;b&gt;"))
    }

    @Test("a plain {\"key\": …} body reads the same as with JSONDecoder")
    func simpleBodiesMatchJSONDecoder() throws {
        let key = "q83vEjRWeJASNFZ4kBI0VniQEjRWeJASNFZ4kBI0Vng"
        for text in [
            #"{"key":"\#(key)"}"#, #"{"key": "\#(key)"}"#, " \n{ \"key\" :\t\"\(key)\" }\r\n", #"{"key":""}"#,
        ] {
            let fast = Reader.simpleKeyBody(ByteBuffer(string: text))
            let decoded = try JSONDecoder().decode(Reader.KeyBody.self, from: Data(text.utf8))
            #expect(fast != nil)
            #expect(fast == decoded)
        }
    }

    @Test("any other body is left to JSONDecoder")
    func otherBodiesAreNotTaken() {
        for text in [
            #"{"key":"abc","code":"123456"}"#, #"{"code":"1","key":"abc"}"#, #"{"key":"a\/b"}"#, #"{"key":"a\u0041"}"#,
            #"{"key":"abc"} x"#, #"{"key":"abc""#, #"{"KEY":"abc"}"#, #"["key"]"#, "", #"{"key":"abc","key":"d"}"#,
            #"{"key":null}"#, #"{"key":"a b"}"#,
        ] {
            #expect(Reader.simpleKeyBody(ByteBuffer(string: text)) == nil, "\(text)")
        }
    }
}

extension ReaderFastPathTests {
    func openedBody(_ text: String, sentAt: Date) -> OpenedMessageBody {
        OpenedMessageBody(
            subject: "Q3 <numbers> & \"plans\" 季度", from: "Alice <alice@corp.test>", sentAt: sentAt,
            bodyText: text, to: ["bob@partner.test", "碧@例子.test"], cc: [],
            attachments: [
                .init(index: 1, name: "a/b\\c \"d\".pdf", size: 2_048, mediaType: "application/pdf"),
                .init(index: 2, name: "表.xlsx", size: 0, mediaType: "application/octet-stream"),
            ])
    }

    @Test("the hand-written open answer is byte for byte what JSONEncoder writes")
    func openedJSONMatchesEncoder() async throws {
        for (text, date) in [
            ("Hello\nBob\t</script> ✓ 你好 \r\n", Date(timeIntervalSince1970: 1_795_000_000.999)),
            ("", Date(timeIntervalSince1970: 0)), ("a/b\\c\"", Date(timeIntervalSince1970: 4_102_444_799.5)),
        ] {
            let body = openedBody(text, sentAt: date)
            let encoded = try await bodyText(JSONResponse.make(.ok, body))
            let handWritten = String(buffer: body.json())
            let same = handWritten == encoded
            #expect(same, "\(handWritten)\n\(encoded)")
        }
    }

    @Test("control characters in the open answer decode back to the same text")
    func openedJSONEscapesControlCharacters() throws {
        let text = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "\u{7F}end"
        let body = openedBody(text, sentAt: Date(timeIntervalSince1970: 1_795_000_000))
        let object = try JSONSerialization.jsonObject(with: Data(buffer: body.json())) as? [String: Any]
        let decoded = object?["body_text"] as? String
        let same = decoded == text
        #expect(same)
    }
}

/// A response body writer that keeps what it is given.
private actor CollectingWriter: ResponseBodyWriter {
    var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var copy = buffer
        self.buffer.writeBuffer(&copy)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
