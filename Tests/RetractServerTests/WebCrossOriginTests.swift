import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Testing

@testable import RetractServer

/// The web app acts only on requests its own pages sent: a POST a browser marks as
/// cross-site is refused with 403 even with the right CSRF token, and an upload is refused
/// before a byte of it is stored unless the token comes first.
@Suite("Web app: cross-site posts are refused, uploads wait for the token")
struct WebCrossOriginTests {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// Headers a browser on another site sends with a form post.
    static let foreignHeaders: [(String, HTTPFields)] = [
        ("a foreign Origin", [.origin: "https://evil.example"]),
        ("Origin: null with Sec-Fetch-Site: cross-site", [.origin: "null", secFetchSite: "cross-site"]),
        ("Sec-Fetch-Site: cross-site", [secFetchSite: "cross-site"]),
        ("Sec-Fetch-Site: same-site", [secFetchSite: "same-site"]),
        ("a foreign Origin with Sec-Fetch-Site: same-origin", [.origin: "https://evil.example", secFetchSite: "same-origin"]),
    ]

    func urlEncoded(_ fields: [(String, String)]) -> ByteBuffer {
        ByteBuffer(
            string: fields.map { "\(WebTestBrowser.formEscape($0.0))=\(WebTestBrowser.formEscape($0.1))" }.joined(
                separator: "&"))
    }

    func post(
        _ browser: inout WebTestBrowser, _ uri: String, _ fields: [(String, String)], headers: HTTPFields
    ) async throws -> TestResponse {
        var all = headers
        all[.contentType] = "application/x-www-form-urlencoded"
        return try await browser.request(uri, method: .post, headers: all, body: urlEncoded(fields))
    }

    @Test("every state-changing post with a foreign origin is refused with 403 and changes nothing, even with a valid token")
    func foreignPostsRefused() async throws {
        let fixture = try WebFixture(publicURL: "https://retract.example.test")
        let receipt = try await fixture.service.send(
            Draft(
                from: WebTestAccount.alice, to: ["bob@partner.test"], subject: "Price list", body: "Old prices",
                delay: 3_600))
        let path = "/app/messages/\(receipt.messageID)"
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            for (label, headers) in Self.foreignHeaders {
                // A sign-in (login CSRF) with the sign-in form's own token
                var stranger = WebTestBrowser(client)
                let (_, signInPage) = try await stranger.page("/app/sign-in")
                let signInToken = WebTestBrowser.hidden("csrf", in: signInPage) ?? ""
                let signIn = try await post(
                    &stranger, "/app/sign-in",
                    [("csrf", signInToken), ("address", WebTestAccount.alice), ("password", WebTestAccount.password)],
                    headers: headers)
                #expect(signIn.status == .forbidden, "sign-in, \(label)")
                #expect(stranger.cookies["retract_session"] == nil, "sign-in, \(label)")
                // Compose (URL-encoded and multipart), cancel, revoke, sign-out
                let compose = try await post(
                    &browser, "/app/compose",
                    [("csrf", csrf), ("to", "mallory@partner.test"), ("subject", "S"), ("body", "B"), ("action", "send")],
                    headers: headers)
                #expect(compose.status == .forbidden, "compose, \(label)")
                var multipart = MultipartBody()
                multipart.field("csrf", csrf)
                multipart.field("to", "mallory@partner.test")
                multipart.field("subject", "S")
                multipart.field("body", "B")
                multipart.field("action", "send")
                multipart.file("attachments", fileName: "a.txt", Array("attached".utf8))
                var multipartHeaders = headers
                multipartHeaders[.contentType] = multipart.contentType
                let upload = try await browser.request(
                    "/app/compose", method: .post, headers: multipartHeaders, body: multipart.closed)
                #expect(upload.status == .forbidden, "multipart compose, \(label)")
                let cancel = try await post(&browser, path + "/cancel", [("csrf", csrf)], headers: headers)
                #expect(cancel.status == .forbidden, "cancel, \(label)")
                let revoke = try await post(
                    &browser, path + "/revoke", [("csrf", csrf), ("scope", "all"), ("action", "confirm")],
                    headers: headers)
                #expect(revoke.status == .forbidden, "revoke, \(label)")
                let signOut = try await post(&browser, "/app/sign-out", [("csrf", csrf)], headers: headers)
                #expect(signOut.status == .forbidden, "sign-out, \(label)")
            }
            // Still signed in: the foreign sign-outs did nothing.
            let list = try await browser.request("/app/messages")
            #expect(list.status == .ok)
        }
        // Nothing was sent, cancelled or revoked, and no upload was kept.
        let messages = try fixture.service.list(sender: WebTestAccount.alice)
        #expect(messages.map(\.id) == [receipt.messageID])
        let status = try fixture.service.status(messageID: receipt.messageID, sender: WebTestAccount.alice)
        #expect(status.recipients.allSatisfy { $0.state == "live" && $0.delivery == "queued" })
        #expect(fixture.uploadedFiles().isEmpty)
    }

    @Test("posts from the service's own origin, from the address the browser used, or without Origin go through")
    func ownOriginAllowed() async throws {
        let fixture = try WebFixture(publicURL: "https://retract.example.test")
        try await fixture.app().test(.router) { client in
            let own: [HTTPFields] = [
                [.origin: "https://retract.example.test", Self.secFetchSite: "same-origin"],
                [.origin: "HTTPS://Retract.Example.Test"],
                // What Chromium sends from our pages: Referrer-Policy no-referrer makes Origin null.
                [.origin: "null", Self.secFetchSite: "same-origin"],
                [Self.secFetchSite: "none"],
                [:],
            ]
            for headers in own {
                var browser = WebTestBrowser(client)
                let (_, page) = try await browser.page("/app/sign-in")
                let token = WebTestBrowser.hidden("csrf", in: page) ?? ""
                let signIn = try await post(
                    &browser, "/app/sign-in",
                    [("csrf", token), ("address", WebTestAccount.alice), ("password", WebTestAccount.password)],
                    headers: headers)
                #expect(signIn.status == .seeOther, "\(headers)")
                let csrf = try await browser.csrf()
                let review = try await post(
                    &browser, "/app/compose",
                    [("csrf", csrf), ("to", "bob@partner.test"), ("subject", "S"), ("body", "B"), ("action", "review")],
                    headers: headers)
                #expect(review.status == .ok, "\(headers)")
            }
        }
    }

    @Test("an Origin equal to the address the browser used passes; another port, host or scheme does not")
    func originMatchesAuthority() {
        let policy = SameOriginPolicy(publicURL: "http://127.0.0.1:8080")
        func allows(_ origin: String, authority: String?) -> Bool {
            policy.allows(method: .post, headers: [.origin: origin], authority: authority)
        }
        #expect(allows("http://127.0.0.1:8080", authority: nil))
        #expect(allows("http://localhost:8080", authority: "localhost:8080"))
        #expect(!allows("http://localhost:8081", authority: "localhost:8080"))
        #expect(!allows("http://evil.example:8080", authority: "localhost:8080"))
        #expect(!allows("http://127.0.0.1:8080.evil.example", authority: "localhost:8080"))
        #expect(!allows("http://localhost:8080", authority: nil))
        #expect(policy.allows(method: .get, headers: [.origin: "https://evil.example"], authority: nil))
    }

    @Test("a compose upload whose file comes before a valid CSRF token is refused with 403 before any of it is stored")
    func uploadRefusedBeforeStoring() async throws {
        // Given a signed-in sender of a real server (the body must stream, unfinished)
        let bench = try TestBench()
        _ = try bench.service.addSender(address: WebTestAccount.alice, name: "Alice")
        try bench.service.setSenderPassword(address: WebTestAccount.alice, password: WebTestAccount.password)
        let session = try await bench.service.signIn(
            address: WebTestAccount.alice, password: WebTestAccount.password, client: nil)
        let uploads = bench.configuration.dataDirectory.appendingPathComponent("uploads")
        try await HTTPConnectionLimitsLiveTests.withServer(HTTPConnectionLimitsLiveTests.roomyLimits(), bench: bench) {
            port, _ in
            // When the form's file part starts before any token, and the body is not finished
            let boundary = "retract-test-boundary"
            let start =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\nbob@partner.test\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"secret.txt\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n" + String(repeating: "s", count: 20_000)
            let head =
                "POST /app/compose HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: retract_session=\(session.cookieValue)\r\n"
                + "Content-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: 500000\r\n\r\n"
            let connection = try await RawConnection.open(port: port)
            try await connection.send(head + start)
            // Then the answer is 403 while the upload is still under way, and nothing was written
            let answer = try await connection.receive(until: "\r\n\r\n", within: 30)
            #expect(answer.hasPrefix("HTTP/1.1 403"))
            #expect(Self.regularFiles(under: uploads).isEmpty)
        }
        #expect(try bench.service.list(sender: WebTestAccount.alice).isEmpty)
    }

    /// Every regular file below `folder`.
    static func regularFiles(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }
    }
}
