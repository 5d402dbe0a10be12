import Foundation
import Seal
import Testing

@Suite("Envelope")
struct EnvelopeTests {
    let envelope = Envelope(
        subject: "Q3 / numbers",
        from: "alice@example.com",
        fromName: "Alice",
        sentAt: Date(timeIntervalSince1970: 1_735_787_045.75),
        bodyText: "Hi \u{1F44B}\n",
        to: ["bob@example.org"],
        cc: [],
        attachments: [AttachmentInfo(index: 1, name: "q3.pdf", size: 12, mediaType: "application/pdf")]
    )

    @Test("encodes canonical JSON: sorted snake_case keys, whole-second UTC date, unescaped slashes")
    func canonical() throws {
        let json = String(decoding: try envelope.encoded(), as: UTF8.self)
        #expect(
            json
                == #"{"attachments":[{"index":1,"media_type":"application/pdf","name":"q3.pdf","size":12}],"body_text":"Hi 👋\n","cc":[],"from":"alice@example.com","from_name":"Alice","sent_at":"2025-01-02T03:04:05Z","subject":"Q3 / numbers","to":["bob@example.org"]}"#
        )
    }

    @Test("decodes what it encodes")
    func roundTrip() throws {
        #expect(try Envelope.decode(envelope.encoded()) == envelope)
        var changed = envelope
        changed.sentAt = Date(timeIntervalSince1970: 10.9)
        #expect(changed.sentAt == Date(timeIntervalSince1970: 10))
        #expect(try Envelope.decode(changed.encoded()) == changed)
    }

    @Test("an absent display name is omitted, not null")
    func omitsNil() throws {
        var anonymous = envelope
        anonymous.fromName = nil
        let json = String(decoding: try anonymous.encoded(), as: UTF8.self)
        #expect(!json.contains("from_name"))
        #expect(try Envelope.decode(anonymous.encoded()).fromName == nil)
    }

    @Test("unknown keys are ignored so later versions can add fields")
    func unknownKeys() throws {
        var json = String(decoding: try envelope.encoded(), as: UTF8.self)
        json.insert(contentsOf: #""zz_future":true,"#, at: json.index(after: json.startIndex))
        #expect(try Envelope.decode(Array(json.utf8)) == envelope)
    }

    @Test(
        "malformed envelopes are refused",
        arguments: [
            "",
            "null",
            "[]",
            #"{"subject":"s"}"#,
            #"{"attachments":[],"body_text":"","cc":[],"from":"a","sent_at":"yesterday","subject":"s","to":[]}"#,
            #"{"attachments":[{"index":0,"media_type":"x","name":"n","size":1}],"body_text":"","cc":[],"from":"a","sent_at":"2025-01-02T03:04:05Z","subject":"s","to":[]}"#,
            #"{"attachments":[{"index":1,"media_type":"x","name":"n","size":-1}],"body_text":"","cc":[],"from":"a","sent_at":"2025-01-02T03:04:05Z","subject":"s","to":[]}"#,
            #"{"attachments":[{"index":1,"media_type":"x","name":"n","size":1},{"index":1,"media_type":"x","name":"m","size":1}],"body_text":"","cc":[],"from":"a","sent_at":"2025-01-02T03:04:05Z","subject":"s","to":[]}"#,
        ]
    )
    func malformed(_ json: String) {
        #expect(throws: SealError.malformedEnvelope) { try Envelope.decode(Array(json.utf8)) }
    }

    @Test("encoding refuses attachment indexes that cannot be parts")
    func encodeValidates() {
        var bad = envelope
        bad.attachments = [AttachmentInfo(index: 0, name: "x", size: 1, mediaType: "text/plain")]
        #expect(throws: SealError.malformedEnvelope) { try bad.encoded() }
    }
}
