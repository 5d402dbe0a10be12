import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractTestSupport
import Seal
import Testing

@testable import RetractServer

/// The reader page of a mail with an HTML body that came through the gateway: a sandboxed
/// `srcdoc` frame with its own CSP, cid: images inline, remote images counted, and a page
/// CSP that lets only that frame's styles and data: images in; every other page keeps the
/// strict one.
@Suite("Reader: HTML mail from the gateway")
struct ReaderHTMLMailTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x01]
    static let strictPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static func mail(html: String) -> String {
        """
        From: Alice <alice@corp.test>\r
        To: bob@partner.test\r
        Subject: Styled\r
        Content-Type: multipart/alternative; boundary=alt\r
        \r
        --alt\r
        Content-Type: text/plain; charset=utf-8\r
        \r
        The plain version.\r
        --alt\r
        Content-Type: multipart/related; boundary=rel\r
        \r
        --rel\r
        Content-Type: text/html; charset=utf-8\r
        \r
        \(html)\r
        --rel\r
        Content-Type: image/png\r
        Content-ID: <logo@corp.test>\r
        Content-Transfer-Encoding: base64\r
        \r
        \(Data(png).base64EncodedString())\r
        --rel--\r
        --alt--\r

        """
    }

    struct Received {
        let bench: TestBench
        let link: Link
        var path: String { "/m/\(link.token.base64url)" }
    }

    func receive(_ text: String) async throws -> Received {
        let bench = try TestBench()
        _ = try bench.service.addSender(address: "alice@corp.test", name: "Alice")
        let file = bench.root.appendingPathComponent("in-\(UUID().uuidString).eml")
        try Data(text.utf8).write(to: file)
        let receipt = try await bench.service.acceptIncomingMail(
            IncomingMail(
                file: file, envelopeSender: "alice@corp.test", sender: "alice@corp.test",
                recipients: [.init(address: "bob@partner.test", sealed: true)], subject: "Styled",
                traceField: "Received: from mx (127.0.0.1) by retract.test; Thu, 03 Dec 2026 12:00:00 +0000"),
            headers: try IncomingMailHeaders.read(file: file))
        return Received(bench: bench, link: try Link.parse(receipt.sealed[0].link))
    }

    func openPage(_ received: Received, language: String = "en") async throws -> (
        policy: String?, html: String, headers: HTTPFields
    ) {
        let app = Application(router: try await buildRouter(service: received.bench.service))
        return try await app.test(.router) { client in
            try await client.execute(
                uri: received.path + "/open", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .acceptLanguage: language],
                body: ByteBuffer(string: "key=\(received.link.linkKey.base64url)")
            ) { response in
                #expect(response.status == .ok)
                return (
                    response.headers[.contentSecurityPolicy], String(buffer: response.body ?? ByteBuffer()),
                    response.headers
                )
            }
        }
    }

    /// The frame's document: the srcdoc attribute, unescaped.
    func frameDocument(_ page: String) throws -> String {
        let start = try #require(page.range(of: "srcdoc=\""))
        let end = try #require(page[start.upperBound...].firstIndex(of: "\""))
        return String(page[start.upperBound..<end]).replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test("the HTML shows in a sandboxed srcdoc frame with its own CSP first; cid: images inline; remote ones counted")
    func frame() async throws {
        let html = """
            <html><head><style>.hi { color: green }</style></head><body>\
            <p class="hi" style="font-weight:bold" onclick="alert(1)">Hello</p>\
            <img src="cid:logo@corp.test"><img src="https://tracker.example/p.gif"><script>alert(2)</script>\
            <div style="background:url(http://tracker.example/bg.png)">x</div></body></html>
            """
        let received = try await receive(Self.mail(html: html))
        let (policy, page, headers) = try await openPage(received)

        #expect(
            page.contains("<iframe id=\"mail-html\" class=\"mail-frame\" sandbox=\"\" referrerpolicy=\"no-referrer\""))
        #expect(!page.contains("<iframe id=\"mail-html\" src"))
        let document = try frameDocument(page)
        let nonce = try #require(document.firstMatch(of: /'nonce-([A-Za-z0-9_-]+)'/)?.1)
        #expect(
            document.hasPrefix(
                "<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"\(MailFrame.documentPolicy(nonce: String(nonce)))\">"
            ))
        #expect(
            MailFrame.documentPolicy(nonce: "N").hasPrefix(
                "default-src 'none'; style-src 'nonce-N'; style-src-attr 'unsafe-inline'; img-src data:;"))
        #expect(document.contains("<style nonce=\"\(nonce)\">.hi { color: green }</style>"))
        #expect(document.contains("<p class=\"hi\" style=\"font-weight:bold\">Hello</p>"))
        #expect(document.contains("<img src=\"data:image/png;base64,\(Data(Self.png).base64EncodedString())\">"))
        #expect(!document.contains("tracker.example"))
        #expect(!document.contains("alert"))
        #expect(!document.contains(received.link.linkKey.base64url))

        // The page's CSP: the strict one plus the frame's needs, with this response's nonce.
        #expect(
            policy == SecurityHeadersMiddleware<BasicRequestContext>.mailPageContentSecurityPolicy(nonce: String(nonce))
        )
        #expect(policy?.contains("script-src 'self';") == true)
        #expect(policy?.contains("frame-ancestors 'none'") == true)
        #expect(policy?.contains("unsafe-inline") == true && policy?.contains("style-src-attr 'unsafe-inline'") == true)
        #expect(policy?.contains("'unsafe-eval'") == false)
        #expect(headers[SecurityHeadersMiddleware<BasicRequestContext>.mailFrameNonceField] == nil)

        #expect(page.contains("<p id=\"remote-blocked\" class=\"notice-line\">2 remote images were blocked.</p>"))
        #expect(page.contains("<summary>Show as plain text</summary>"))
        #expect(page.contains("The plain version."))
        #expect(page.contains("<button type=\"submit\" id=\"download-original\">Download the original (.eml)</button>"))
        #expect(page.contains("action=\"/m/\(received.link.token.base64url)/attachments/1\""))
    }

    @Test("each open gets a fresh nonce")
    func freshNonce() async throws {
        let received = try await receive(Self.mail(html: "<p>x</p>"))
        let first = try await openPage(received).policy
        let second = try await openPage(received).policy
        #expect(first != nil && first != second)
    }

    @Test("the blocked-images line speaks Simplified Chinese too")
    func chinese() async throws {
        let received = try await receive(
            Self.mail(html: "<img src=//tracker.example/a.gif><img src=http://t.example/b>"))
        let page = try await openPage(received, language: "zh-CN").html
        #expect(page.contains("已阻止 2 张远程图片。"))
        #expect(page.contains("下载原始邮件（.eml）"))
    }

    @Test("a text-only message, and every page without mail HTML, keeps the strict CSP exactly")
    func strictElsewhere() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "Alice <alice@corp.test>", to: ["bob@partner.test"], subject: "Plain", body: "<style>x</style>")
        )
        let link = try Link.parse(receipt.recipients[0].link)
        let app = Application(router: try await buildRouter(service: bench.service))
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/m/\(link.token.base64url)/open", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "key=\(link.linkKey.base64url)")
            ) { response in
                #expect(response.headers[.contentSecurityPolicy] == Self.strictPolicy)
                #expect(!String(buffer: response.body ?? ByteBuffer()).contains("<iframe"))
            }
            try await client.execute(uri: "/m/\(link.token.base64url)", method: .get) { response in
                #expect(response.headers[.contentSecurityPolicy] == Self.strictPolicy)
            }
        }
        #expect(SecurityHeadersMiddleware<BasicRequestContext>.contentSecurityPolicy == Self.strictPolicy)
    }

    @Test("a gateway mail without HTML keeps the strict CSP and still offers the original")
    func textOnlyGatewayMail() async throws {
        let received = try await receive(
            "From: alice@corp.test\r\nTo: bob@partner.test\r\nSubject: t\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n")
        let (policy, page, _) = try await openPage(received)
        #expect(policy == Self.strictPolicy)
        #expect(page.contains("<pre id=\"body\" class=\"body\">Grüße</pre>"))
        #expect(page.contains("id=\"download-original\""))
    }

    @Test("the API open answers with the text body and the attachment list, not the HTML")
    func apiGivesText() async throws {
        let received = try await receive(Self.mail(html: "<p>x</p>"))
        let app = Application(router: try await buildRouter(service: received.bench.service))
        try await app.test(.router) { client in
            try await client.execute(
                uri: received.path + "/open", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"key\":\"\(received.link.linkKey.base64url)\"}")
            ) { response in
                let body = String(buffer: response.body ?? ByteBuffer())
                #expect(body.contains("\"body_text\":\"The plain version.\""))
                #expect(!body.contains("body_html"))
                #expect(body.contains("\"name\":\"original.eml\""))
            }
        }
    }

    @Test("an HTML-only mail's plain-text view is the HTML's text")
    func htmlOnly() async throws {
        let received = try await receive(
            "From: alice@corp.test\r\nTo: bob@partner.test\r\nSubject: h\r\nContent-Type: text/html; charset=windows-1252\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>=93Hi=94 Bob</p><script>x()</script><p>Second</p>\r\n"
        )
        let (_, page, _) = try await openPage(received)
        #expect(page.contains("<pre id=\"body\" class=\"body\">“Hi” Bob\nSecond</pre>"))
        #expect(try frameDocument(page).contains("<p>“Hi” Bob</p><p>Second</p>"))
    }
}
