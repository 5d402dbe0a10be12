import Foundation
import Hummingbird
import HummingbirdTesting
import Mail
import NIOCore
import RetractCore
import RetractTestSupport
import Seal
import Testing

@testable import RetractServer

/// A request context that knows the client's address, as the per-client open limit needs.
struct ClientAddressTestContext: ClientAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var clientAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }
}

@Suite("Reader routes of a verified message: the page, the code request and opening with the code")
struct VerificationRoutesTests {
    struct Sent {
        let bench: TestBench
        let link: Link
        let messageID: String
        var path: String { "/m/\(link.token.base64url)" }
    }

    func sendVerified(attachments: [URL] = [], bench: TestBench? = nil) async throws -> Sent {
        let bench = try bench ?? TestBench()
        let receipt = try await bench.service.send(
            Draft(
                from: "Alice <alice@corp.test>", to: ["bob@partner.test"], subject: "Salaries", body: "The numbers.",
                attachments: attachments, verify: true))
        return Sent(bench: bench, link: try Link.parse(receipt.recipients[0].link), messageID: receipt.messageID)
    }

    func app(_ sent: Sent) async throws -> some ApplicationProtocol {
        Application(router: try await buildRouter(service: sent.bench.service))
    }

    func json(_ object: [String: String]) -> ByteBuffer {
        ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    func decode(_ buffer: ByteBuffer?) -> [String: Any] {
        guard let buffer, let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]
        else { return [:] }
        return object
    }

    /// Delivers the outbox and returns the code of the newest verification mail.
    func mailedCode(_ sent: Sent) async throws -> String {
        _ = await sent.bench.service.deliverDueMail()
        let mails = try sent.bench.deliveredMail().filter {
            $0.header("Subject") == "Your verification code for a secure message"
        }
        try #require(mails.count == 1)
        let lines = (mails[0].textBody ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return try #require(lines.first { $0.count == 6 && $0.allSatisfy(\.isNumber) })
    }

    @Test("the page of a verified link offers to mail a code to the masked recipient, and the GET mails nothing")
    func pageOffersCode() async throws {
        let sent = try await sendVerified()
        try await app(sent).test(.router) { client in
            try await client.execute(uri: sent.path, method: .get) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("We will mail a 6-digit code to b***@partner.test"))
                #expect(html.contains("action=\"\(sent.path)/code\""))
                #expect(!html.contains("action=\"\(sent.path)/open\""))
                #expect(!html.contains("bob@partner.test"))
            }
        }
        _ = await sent.bench.service.deliverDueMail()
        #expect(try sent.bench.deliveredMail().count == 1)
    }

    @Test("JSON: the key alone is 403 code_required naming where the code goes")
    func keyAloneJSON() async throws {
        let sent = try await sendVerified()
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url])
            ) { response in
                #expect(response.status == .forbidden)
                let body = decode(response.body)
                #expect(body["error"] as? String == "code_required")
                #expect(body["sent_to"] as? String == "b***@partner.test")
            }
        }
    }

    @Test("JSON: POST /code mails a code, and {key, code} opens the message")
    func codeThenOpenJSON() async throws {
        let sent = try await sendVerified()
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/code", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url])
            ) { response in
                #expect(response.status == .ok)
                let body = decode(response.body)
                #expect(body["sent_to"] as? String == "b***@partner.test")
                #expect(body["expires_at"] is String)
                #expect(body["code"] == nil)
            }
            let code = try await mailedCode(sent)
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url, "code": code])
            ) { response in
                #expect(response.status == .ok)
                #expect(decode(response.body)["body_text"] as? String == "The numbers.")
            }
        }
    }

    @Test("JSON: a wrong code is 403 invalid_code, and the fifth is 429 too_many_attempts with Retry-After")
    func wrongCodesJSON() async throws {
        let sent = try await sendVerified()
        _ = try await sent.bench.service.requestVerificationCode(token: sent.link.token, linkKey: sent.link.linkKey)
        let code = try await mailedCode(sent)
        let wrong = code == "000000" ? "000001" : "000000"
        try await app(sent).test(.router) { client in
            for attempt in 1...5 {
                let response = try await client.execute(
                    uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"],
                    body: json(["key": sent.link.linkKey.base64url, "code": wrong]))
                if attempt < 5 {
                    #expect(response.status == .forbidden)
                    #expect(decode(response.body)["error"] as? String == "invalid_code")
                    #expect(decode(response.body)["remaining"] as? Int == 5 - attempt)
                } else {
                    #expect(response.status == .tooManyRequests)
                    #expect(decode(response.body)["error"] as? String == "too_many_attempts")
                    #expect(response.headers[.retryAfter] == "900")
                }
            }
            let locked = try await client.execute(
                uri: sent.path + "/open", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": sent.link.linkKey.base64url, "code": code]))
            #expect(locked.status == .tooManyRequests)
        }
    }

    @Test("JSON: asking for a code with a wrong key is 403 invalid_key and mails nothing")
    func codeRequestWrongKey() async throws {
        let sent = try await sendVerified()
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/code", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": LinkKey.generate().base64url])
            ) { response in
                #expect(response.status == .forbidden)
                #expect(decode(response.body)["error"] as? String == "invalid_key")
            }
        }
        _ = await sent.bench.service.deliverDueMail()
        #expect(try sent.bench.deliveredMail().count == 1)
    }

    @Test("form: the code page keeps the key, a wrong code shows the form again, the right one shows the message")
    func formFlow() async throws {
        let bench = try TestBench()
        let file = try bench.makeFile(named: "payroll.csv", size: 3_000)
        let sent = try await sendVerified(attachments: [file], bench: bench)
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        let key = sent.link.linkKey.base64url
        try await app(sent).test(.router) { client in
            try await client.execute(
                uri: sent.path + "/code", method: .post, headers: form, body: ByteBuffer(string: "key=\(key)")
            ) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("We mailed a 6-digit code to b***@partner.test"))
                #expect(html.contains("name=\"code\""))
                #expect(html.contains("autocomplete=\"one-time-code\""))
                #expect(html.contains("value=\"\(key)\""))
            }
            let code = try await mailedCode(sent)
            let wrong = code == "111111" ? "111112" : "111111"
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: form,
                body: ByteBuffer(string: "key=\(key)&code=\(wrong)")
            ) { response in
                #expect(response.status == .forbidden)
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("That code is wrong or has expired"))
                #expect(html.contains("name=\"code\""))
            }
            try await client.execute(
                uri: sent.path + "/open", method: .post, headers: form,
                body: ByteBuffer(string: "key=\(key)&code=\(code)")
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body ?? ByteBuffer()).contains("The numbers."))
            }
            // The verification is remembered, so the attachment form (key only) downloads.
            try await client.execute(
                uri: sent.path + "/attachments/1", method: .post, headers: form, body: ByteBuffer(string: "key=\(key)")
            ) { response in
                #expect(response.status == .ok)
                let same = Array(buffer: response.body ?? ByteBuffer()) == [UInt8](try Data(contentsOf: file))
                #expect(same)
            }
        }
    }

    @Test("a Chinese reader gets the verification page in Chinese")
    func chinesePage() async throws {
        let sent = try await sendVerified()
        try await app(sent).test(.router) { client in
            try await client.execute(uri: sent.path, method: .get, headers: [.acceptLanguage: "zh-CN,zh;q=0.9"]) {
                response in
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("我们会向 b***@partner.test 发送一个 6 位验证码"))
            }
        }
    }

    @Test("over a real connection, 30 failed opens from one address get 429 with Retry-After on any link")
    func perClientLimitOverHTTP() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: (0..<5).map { "r\($0)@partner.test" }, subject: "S", body: "B"))
        let links = try receipt.recipients.map { try Link.parse($0.link) }
        let router = Router(context: ClientAddressTestContext.self)
        router.addRoutes(
            ReaderController(service: bench.service, pages: try await PageRenderer.load()).endpoints, atPath: "/m")
        try await Application(router: router).test(.live) { client in
            for index in 0..<RetractService.openClientFailureLimit {
                let response = try await client.execute(
                    uri: "/m/\(links[index % 4].token.base64url)/open", method: .post,
                    headers: [.contentType: "application/json"], body: json(["key": LinkKey.generate().base64url]))
                #expect(response.status == .forbidden)
            }
            try await client.execute(
                uri: "/m/\(links[4].token.base64url)/open", method: .post, headers: [.contentType: "application/json"],
                body: json(["key": links[4].linkKey.base64url])
            ) { response in
                #expect(response.status == .tooManyRequests)
                #expect(decode(response.body)["error"] as? String == "too_many_attempts")
                #expect(response.headers[.retryAfter] == String(Int(RetractService.openClientWindow)))
            }
        }
    }
}
