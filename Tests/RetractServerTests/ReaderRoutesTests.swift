import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Seal
import Testing

@Suite("Reader routes through the real application")
struct ReaderRoutesTests {
    struct Sent {
        let bench: TestBench
        let link: Link
        let messageID: String
        var path: String { "/m/\(link.token.base64url)" }
    }

    func send(_ draft: Draft) async throws -> Sent {
        let bench = try TestBench()
        let receipt = try await bench.service.send(draft)
        return Sent(bench: bench, link: try Link.parse(receipt.recipients[0].link), messageID: receipt.messageID)
    }

    func basicDraft(maxViews: Int? = nil, body: String = "Hello <b>Bob</b>", attachments: [URL] = []) -> Draft {
        Draft(
            from: "Alice <alice@corp.test>", to: ["bob@partner.test"], subject: "Quarterly <numbers>", body: body,
            attachments: attachments, maxViews: maxViews)
    }

    func app(_ sent: Sent) async throws -> some ApplicationProtocol {
        Application(router: try await buildRouter(service: sent.bench.service))
    }

    func json(_ object: [String: String]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    func decode(_ buffer: ByteBuffer?) -> [String: Any] {
        guard let buffer, let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]
        else { return [:] }
        return object
    }

    @Test("the interstitial page carries the security headers and loads no external asset")
    func interstitialHeaders() async throws {
        let sent = try await send(basicDraft())
        try await app(sent).test(.router) { client in
            try await client.execute(uri: sent.path, method: .get) { response in
                #expect(response.status == .ok)
                let csp = response.headers[.contentSecurityPolicy] ?? ""
                #expect(csp.contains("default-src 'none'"))
                #expect(csp.contains("script-src 'self'"))
                #expect(!csp.contains("unsafe-inline"))
                #expect(response.headers.first { $0.name.canonicalName == "referrer-policy" }?.value == "no-referrer")
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("Open message"))
                #expect(!html.contains("http://") && !html.contains("https://"))
                #expect(!html.contains("<script>"))
            }
        }
    }

    @Test("many GETs of a link leave it unopened")
    func getCountsNothing() async throws {
        let sent = try await send(basicDraft(maxViews: 1))
        try await app(sent).test(.router) { client in
            for _ in 0..<5 {
                try await client.execute(uri: sent.path, method: .get) { #expect($0.status == .ok) }
            }
        }
        let status = try sent.bench.service.status(messageID: sent.messageID)
        #expect(status.recipients[0].views == 0)
    }

    @Test("POST with the right key as JSON returns the message")
    func openJSON() async throws {
        let sent = try await send(basicDraft())
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url])
            ) { response in
                #expect(response.status == .ok)
                let body = decode(response.body)
                #expect(body["subject"] as? String == "Quarterly <numbers>")
                #expect(body["body_text"] as? String == "Hello <b>Bob</b>")
                #expect(body["from"] as? String == "Alice <alice@corp.test>")
                #expect(body["sent_at"] is String)
                #expect(body["attachments"] is [Any])
            }
        }
    }

    @Test("the form POST renders the body as escaped text, never as markup")
    func openFormEscapes() async throws {
        let sent = try await send(basicDraft(body: "<script>alert(1)</script>"))
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "key=\(sent.link.linkKey.base64url)")
            ) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(!html.contains("<script>alert(1)"))
                #expect(html.contains("Quarterly &lt;numbers&gt;"))
            }
        }
    }

    @Test("a wrong key and an unknown token get the same status and body")
    func wrongKeyEqualsUnknownToken() async throws {
        let sent = try await send(basicDraft())
        try await app(sent).test(.router) { client in
            let wrongKey = try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": LinkKey.generate().base64url]))
            let unknownToken = try await client.execute(
                uri: "/m/\(GrantToken.random().base64url)/open", method: .post,
                headers: [.contentType: "application/json"], body: json(["key": LinkKey.generate().base64url]))
            #expect(wrongKey.status == .forbidden)
            #expect(unknownToken.status == wrongKey.status)
            #expect(String(buffer: unknownToken.body ?? ByteBuffer()) == String(buffer: wrongKey.body ?? ByteBuffer()))
            #expect(decode(wrongKey.body)["error"] as? String == "invalid_key")
        }
    }

    @Test("bad requests get a one-line JSON error and never a 500", arguments: [
        ("application/json", "not json"),
        ("application/json", #"{"nokey": 1}"#),
        ("application/json", #"{"key": "too-short"}"#),
        ("application/json", #"{"key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"}"#),
        ("text/plain", "key=abc"),
    ])
    func badRequests(contentType: String, body: String) async throws {
        let sent = try await send(basicDraft())
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: contentType],
                body: ByteBuffer(string: body)
            ) { response in
                #expect([400, 415].contains(response.status.code))
                let decoded = decode(response.body)
                #expect(decoded["error"] is String)
                #expect((decoded["message"] as? String)?.contains("\n") == false)
            }
        }
    }

    @Test("an unknown or malformed token shows the 404 page")
    func unknownTokenPage() async throws {
        let sent = try await send(basicDraft())
        try await app(sent).test(.router) { client in
            for path in ["/m/\(GrantToken.random().base64url)", "/m/not-a-token"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(String(buffer: response.body ?? ByteBuffer()).contains("Link not found"))
                }
            }
        }
    }

    @Test("--max-views 1 opens once, then 410 on the API and the page")
    func maxViews() async throws {
        let sent = try await send(basicDraft(maxViews: 1))
        try await app(sent).test(.router) { client in
            let body = json(["key": sent.link.linkKey.base64url])
            let first = try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"], body: body)
            #expect(first.status == .ok)
            let second = try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"], body: body)
            #expect(second.status == .gone)
            #expect(decode(second.body)["error"] as? String == "expired")
            try await client.execute(uri: sent.path, method: .get) { #expect($0.status == .gone) }
        }
    }

    @Test("an expired link answers 410 even with the right key")
    func expired() async throws {
        let sent = try await send(basicDraft())
        sent.bench.clock.advance(31 * 86_400)
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url])
            ) { response in
                #expect(response.status == .gone)
                #expect(decode(response.body)["error"] as? String == "expired")
            }
        }
    }

    @Test("an attachment downloads byte-identical with Content-Disposition attachment")
    func attachmentDownload() async throws {
        let bench = try TestBench()
        let file = try bench.makeFile(named: "年度 report.pdf", size: 200_000)
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "attached", attachments: [file]))
        let sent = Sent(bench: bench, link: try Link.parse(receipt.recipients[0].link), messageID: receipt.messageID)
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/attachments/1", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url])
            ) { response in
                #expect(response.status == .ok)
                let expected = try Data(contentsOf: file)
                #expect(Data(buffer: response.body ?? ByteBuffer()) == expected)
                let disposition = response.headers[.contentDisposition] ?? ""
                #expect(disposition.hasPrefix("attachment;"))
                #expect(disposition.contains("filename*=UTF-8''"))
                #expect(response.headers[.contentType] == "application/pdf")
            }
            try await client.execute(
                uri: sent.path + "/attachments/2", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url])
            ) { #expect($0.status == .notFound) }
        }
    }

    @Test("pages speak Simplified Chinese to a reader who prefers it")
    func chinesePages() async throws {
        let sent = try await send(basicDraft())
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path, method: .get, headers: [.acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8"]
            ) { response in
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("打开邮件"))
                #expect(html.contains("lang=\"zh-Hans\""))
            }
        }
    }

    @Test("health answers ok, and the static files are served from the bundle")
    func healthAndStatic() async throws {
        let sent = try await send(basicDraft())
        try await app(sent).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/static/open.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/javascript") == true)
            }
            try await client.execute(uri: "/static/nope.js", method: .get) { #expect($0.status == .notFound) }
        }
    }
}

@Suite("Revoked links over HTTP")
struct RevokedRoutesTests {
    @Test("a revoked link answers 410 on every route, with the right key, and the page gives date and reason")
    func revokedEverywhere() async throws {
        let bench = try TestBench()
        let file = try bench.makeFile(named: "a.bin", size: 1000)
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "attached", attachments: [file]))
        let link = try Link.parse(receipt.recipients[0].link)
        _ = try await bench.service.revoke(RevokeRequest(messageID: receipt.messageID, reason: "sent by mistake"))
        let path = "/m/\(link.token.base64url)"
        let key = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["key": link.linkKey.base64url]))
        try await Application(router: try await buildRouter(service: bench.service)).test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .gone)
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("withdrawn by the sender on"))
                #expect(html.contains("sent by mistake"))
            }
            for route in ["/open", "/attachments/1"] {
                try await client.execute(
                    uri: path + route, method: .post, headers: [.contentType: "application/json"], body: key
                ) { response in
                    #expect(response.status == .gone)
                    let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body ?? ByteBuffer())) as? [String: Any]
                    #expect(body?["error"] as? String == "revoked")
                    #expect(body?["reason"] as? String == "sent by mistake")
                }
            }
        }
    }
}
