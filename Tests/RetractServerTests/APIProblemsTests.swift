import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Testing

@Suite("API refusals are RFC 9457 problems that say what to fix")
struct APIProblemsTests {
    /// Every API route, with a concrete path for `{id}`.
    static func routes(id: String) -> [(HTTPRequest.Method, String)] {
        [
            (.post, "/api/v1/messages"), (.get, "/api/v1/messages"), (.get, "/api/v1/messages/\(id)"),
            (.post, "/api/v1/messages/\(id)/revoke"), (.post, "/api/v1/messages/\(id)/cancel"),
        ]
    }

    func isProblem(_ response: TestResponse, status: HTTPResponse.Status, type: String) -> Bool {
        let body = APITestBench.object(response.body)
        return response.status == status && response.headers[.contentType] == "application/problem+json"
            && body["type"] as? String == "urn:retract:problem:\(type)" && body["status"] as? Int == Int(status.code)
            && body["title"] is String && (body["detail"] as? String)?.isEmpty == false
    }

    @Test("every route answers 401 with WWW-Authenticate: Bearer without a token, with a wrong one, or another scheme")
    func unauthorized() async throws {
        let api = try APITestBench()
        let receipt = try await api.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "S", body: "B"))
        let wrongHeaders: [(String?, Bool)] = [
            (nil, false), ("Bearer rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true),
            ("Basic YWxpY2U6cHc=", false),
            ("Bearer \(api.alice)x", true),
        ]
        try await api.app().test(.router) { client in
            for (method, path) in Self.routes(id: receipt.messageID) {
                for (authorization, invalidToken) in wrongHeaders {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if let authorization { headers[.authorization] = authorization }
                    try await client.execute(uri: path, method: method, headers: headers, body: APITestBench.body([:]))
                    {
                        response in
                        #expect(isProblem(response, status: .unauthorized, type: "unauthorized"), "\(method) \(path)")
                        let challenge = response.headers[.wwwAuthenticate] ?? ""
                        #expect(challenge.hasPrefix("Bearer"))
                        #expect(challenge.contains("invalid_token") == invalidToken)
                        let text = String(buffer: response.body)
                        #expect(!text.contains(api.alice))
                    }
                }
            }
        }
        #expect(try api.service.status(messageID: receipt.messageID).recipients[0].state == "live")
    }

    @Test("another sender's message is a 404 on show, revoke and cancel, and stays untouched")
    func otherSendersMessage() async throws {
        let api = try APITestBench(defaultSendDelay: 600)
        let receipt = try await api.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "S", body: "B"))
        try await api.app().test(.router) { client in
            for (method, path) in Self.routes(id: receipt.messageID).dropFirst(2) {
                try await client.execute(
                    uri: path, method: method, headers: APITestBench.json(api.mallory), body: APITestBench.body([:])
                ) { response in
                    #expect(isProblem(response, status: .notFound, type: "not-found"), "\(method) \(path)")
                }
            }
            let unknown = String(repeating: "0", count: 32)
            try await client.execute(
                uri: "/api/v1/messages/\(unknown)", method: .get, headers: APITestBench.json(api.alice)
            ) { response in
                #expect(isProblem(response, status: .notFound, type: "not-found"))
            }
        }
        let status = try api.service.status(messageID: receipt.messageID)
        #expect(status.recipients[0].state == "live")
        #expect(status.recipients[0].delivery == "queued")
    }

    @Test("an upload over the limit answers 413 and stores nothing")
    func uploadTooLarge() async throws {
        let api = try APITestBench(uploadLimit: 64 * 1024)
        var builder = MultipartBody()
        builder.field("to", "bob@partner.test")
        builder.field("subject", "Big")
        builder.field("body", "see attached")
        builder.file("attachment", fileName: "big.bin", [UInt8](repeating: 7, count: 100 * 1024))
        let form = builder
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: form.headers(api.alice), body: form.closed
            ) { response in
                #expect(isProblem(response, status: .contentTooLarge, type: "too-large"))
            }
            var json = APITestBench.json(api.alice)
            json[.contentType] = "application/json"
            let bigJSON = APITestBench.body([
                "to": ["bob@partner.test"], "subject": "Big", "body": String(repeating: "x", count: 100 * 1024),
            ])
            try await client.execute(uri: "/api/v1/messages", method: .post, headers: json, body: bigJSON) { response in
                #expect(isProblem(response, status: .contentTooLarge, type: "too-large"))
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
        #expect(api.leftoverUploads().isEmpty)
        #expect(try api.bench.deliveredMail().isEmpty)
    }

    @Test("a multipart text field over 1 MiB is a 400 naming the field; nothing is stored")
    func multipartFieldTooLong() async throws {
        let api = try APITestBench(uploadLimit: 4 << 20)
        var builder = MultipartBody()
        builder.field("to", "bob@partner.test")
        builder.field("subject", "Long")
        builder.field("body", String(repeating: "x", count: (1 << 20) + 1))
        builder.file("attachment", fileName: "a.txt", Array("hello".utf8))
        let form = builder
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: form.headers(api.alice), body: form.closed
            ) { response in
                #expect(isProblem(response, status: .badRequest, type: "invalid-field"))
                #expect(APITestBench.object(response.body)["field"] as? String == "body")
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
        #expect(api.leftoverUploads().isEmpty)
    }

    @Test("malformed JSON is a 400; a field of the wrong type or out of its bounds, or a from field, is a 400 naming the field")
    func badJSON() async throws {
        let api = try APITestBench()
        let cases: [(ByteBuffer, String?)] = [
            (ByteBuffer(string: #"{"to": ["bob@partner.test"], "subject": "#), nil),
            (ByteBuffer(string: "[1, 2]"), nil),
            (
                APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "max_views": "three"]),
                "max_views"
            ),
            (APITestBench.body(["to": [1], "subject": "S", "body": "B"]), "to"),
            (APITestBench.body(["to": ["not an address"], "subject": "S", "body": "B"]), "to"),
            (
                APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "from": "ceo@corp.test"]),
                "from"
            ),
            (APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "delay": "soon"]), "delay"),
            // Durations exactly as the contract's patterns: no leading zero, space or capital
            (APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "delay": "07s"]), "delay"),
            (APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "expires": " 7d"]), "expires"),
            (APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "expires": "7D"]), "expires"),
            (APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "max_views": 1_000_001]), "max_views"),
            (APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "strict": "yes"]), "strict"),
            (APITestBench.body(["to": ["bob@partner.test"], "subject": "S", "body": "B", "locale": "fr"]), "locale"),
            (APITestBench.body(["to": ["bob@partner.test"], "body": "B"]), "subject"),
        ]
        try await api.app().test(.router) { client in
            for (body, field) in cases {
                try await client.execute(
                    uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice), body: body
                ) { response in
                    let problem = APITestBench.object(response.body)
                    #expect(response.status == .badRequest, "\(String(buffer: body))")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(problem["field"] as? String == field, "\(String(buffer: body))")
                    #expect(
                        problem["type"] as? String
                            == (field == nil
                                ? "urn:retract:problem:malformed-body" : "urn:retract:problem:invalid-field"))
                }
            }
            let id = try await api.service.send(
                Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "S", body: "B")
            ).messageID
            try await client.execute(
                uri: "/api/v1/messages/\(id)/revoke", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body(["notify": "everyone"])
            ) { response in
                #expect(response.status == .badRequest)
                #expect(APITestBench.object(response.body)["field"] as? String == "notify")
            }
            try await client.execute(
                uri: "/api/v1/messages/\(id)/revoke", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body(["replacement": ["subject": "only a subject"]])
            ) { response in
                #expect(response.status == .badRequest)
                #expect(APITestBench.object(response.body)["field"] as? String == "replacement.body")
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).count == 1)
    }

    @Test("malformed multipart is a 400; a bad multipart field (a word for a number, a boolean other than true or false) is a 400 naming it; nothing is stored")
    func badMultipart() async throws {
        let api = try APITestBench()
        var truncated = MultipartBody()
        truncated.field("to", "bob@partner.test")
        truncated.field("subject", "S")
        truncated.file("attachment", fileName: "a.txt", Array("hello".utf8))
        var badViews = MultipartBody()
        badViews.field("to", "bob@partner.test")
        badViews.field("subject", "S")
        badViews.field("body", "B")
        badViews.field("max_views", "many")
        var fileInTextField = MultipartBody()
        fileInTextField.field("to", "bob@partner.test")
        fileInTextField.file("body", fileName: "body.txt", Array("B".utf8))
        // A boolean part is `true` or `false` as the contract says, never guessed at
        var guessedFlags: [MultipartBody] = []
        for (field, value) in [("strict", "0"), ("verify", "on"), ("strict", ""), ("verify", "TRUE")] {
            var body = MultipartBody()
            body.field("to", "bob@partner.test")
            body.field("subject", "S")
            body.field("body", "B")
            body.field(field, value)
            guessedFlags.append(body)
        }
        let cases: [(ByteBuffer, String, String?)] = guessedFlags.enumerated().map { index, body in
            (body.closed, body.contentType, index % 2 == 0 ? "strict" : "verify")
        } + [
            (ByteBuffer(bytes: truncated.bytes), truncated.contentType, nil),
            (badViews.closed, badViews.contentType, "max_views"),
            (fileInTextField.closed, fileInTextField.contentType, "body"),
            (badViews.closed, "multipart/form-data", nil),
        ]
        try await api.app().test(.router) { client in
            for (body, contentType, field) in cases {
                let headers: HTTPFields = [.contentType: contentType, .authorization: "Bearer \(api.alice)"]
                try await client.execute(uri: "/api/v1/messages", method: .post, headers: headers, body: body) {
                    response in
                    #expect(response.status == .badRequest)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(APITestBench.object(response.body)["field"] as? String == field)
                }
            }
            try await client.execute(
                uri: "/api/v1/messages", method: .post,
                headers: [.contentType: "text/plain", .authorization: "Bearer \(api.alice)"],
                body: ByteBuffer(string: "hello")
            ) { response in
                #expect(isProblem(response, status: .unsupportedMediaType, type: "unsupported-media-type"))
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
        #expect(api.leftoverUploads().isEmpty)
    }

    @Test("strict with a warning answers 422 with the findings and sends nothing")
    func strictFindings() async throws {
        let api = try APITestBench()
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body([
                    "to": ["bob@partner.test"], "subject": "Contract", "body": "Please see the attached contract.",
                    "strict": true,
                ])
            ) { response in
                #expect(isProblem(response, status: .unprocessableContent, type: "blocked-by-findings"))
                let findings = APITestBench.object(response.body)["findings"] as? [[String: Any]] ?? []
                #expect(
                    findings.contains {
                        $0["code"] as? String == "missing_attachment" && $0["severity"] as? String == "warning"
                    })
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
        #expect(try api.bench.deliveredMail().isEmpty)
    }

    @Test("cancel after a notification left answers 409 and says to revoke instead")
    func cancelTooLate() async throws {
        let api = try APITestBench(defaultSendDelay: 0)
        let receipt = try await api.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "S", body: "B"))
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)/cancel", method: .post,
                headers: APITestBench.json(api.alice)
            ) { response in
                #expect(isProblem(response, status: .conflict, type: "too-late-to-cancel"))
                #expect((APITestBench.object(response.body)["detail"] as? String)?.contains("revoke") == true)
            }
        }
        #expect(try api.service.status(messageID: receipt.messageID).recipients[0].state == "live")
    }
}
