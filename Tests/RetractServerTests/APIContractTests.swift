import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Testing
import Yams

/// Where the server and docs/openapi.yaml once disagreed (Schemathesis, `--checks all`,
/// seed 20261203): each case now answers what the contract says.
@Suite("The API answers what docs/openapi.yaml declares")
struct APIContractTests {
    func problem(_ response: TestResponse) -> [String: Any] { APITestBench.object(response.body) }

    /// A schema of `components.schemas` as plain YAML values.
    static func schema(_ name: String) throws -> [String: Any] {
        let spec = try #require(try Yams.load(yaml: try OpenAPISpecTests.specText()) as? [String: Any])
        let components = try #require(spec["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        return try #require(schemas[name] as? [String: Any])
    }

    @Test("a draft without any recipient is invalid by the contract (JSON and multipart) as it is a 400 from the server")
    func draftNeedsARecipient() async throws {
        // The contract: one of to, cc, bcc is required and names at least one address.
        for name in ["MessageDraft", "MessageDraftForm"] {
            let alternatives = try #require(try Self.schema(name)["anyOf"] as? [[String: Any]], "\(name)")
            let required = alternatives.compactMap { $0["required"] as? [String] }
            #expect(required == [["to"], ["cc"], ["bcc"]], "\(name)")
            for alternative in alternatives {
                let field = try #require((alternative["required"] as? [String])?.first)
                let property = try #require((alternative["properties"] as? [String: Any])?[field] as? [String: Any])
                let nonEmpty =
                    property["minItems"] as? Int == 1
                    || property["$ref"] as? String == "#/components/schemas/NonEmptyAddressList"
                #expect(nonEmpty, "\(name).\(field)")
            }
        }
        let list = try Self.schema("NonEmptyAddressList")["oneOf"] as? [[String: Any]]
        #expect(list?.first?["minItems"] as? Int == 1)
        // The single-string form is one AddressText, whose pattern refuses the empty string.
        #expect(list?.last?["$ref"] as? String == "#/components/schemas/AddressText")
        let pattern = try #require(try Self.schema("AddressText")["pattern"] as? String)
        let expression = try NSRegularExpression(pattern: pattern)
        #expect(expression.firstMatch(in: "", range: NSRange(location: 0, length: 0)) == nil)
        let plain = "bob@partner.test"
        #expect(expression.firstMatch(in: plain, range: NSRange(plain.startIndex..., in: plain)) != nil)
        // The server: such a draft is refused naming `to`.
        let api = try APITestBench()
        try await api.app().test(.router) { client in
            for body: [String: Any] in [["subject": "S", "body": "B"], ["to": [], "cc": [], "subject": "S", "body": "B"]] {
                let response = try await client.execute(
                    uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                    body: APITestBench.body(body))
                #expect(response.status == .badRequest)
                #expect(problem(response)["field"] as? String == "to")
            }
        }
    }

    @Test("null is no value: recipients null on revoke is a 400 naming recipients and revokes nothing, and so is a null draft field")
    func nullIsRefused() async throws {
        let api = try APITestBench()
        let receipt = try await api.service.send(
            Draft(from: APITestBench.aliceAddress, to: ["bob@partner.test"], subject: "S", body: "B"))
        try await api.app().test(.router) { client in
            let revoke = try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)/revoke", method: .post,
                headers: APITestBench.json(api.alice),
                body: ByteBuffer(string: #"{"recipients": null, "reason": "oops", "notify": "all"}"#))
            #expect(revoke.status == .badRequest)
            #expect(problem(revoke)["field"] as? String == "recipients")
            let nested = try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)/revoke", method: .post,
                headers: APITestBench.json(api.alice),
                body: ByteBuffer(string: #"{"replacement": {"subject": null, "body": "new"}}"#))
            #expect(nested.status == .badRequest)
            #expect(problem(nested)["field"] as? String == "replacement.subject")
            let draft = try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: ByteBuffer(string: #"{"to": ["bob@partner.test"], "cc": null, "subject": "S", "body": "B"}"#))
            #expect(draft.status == .badRequest)
            #expect(problem(draft)["field"] as? String == "cc")
        }
        let status = try api.service.status(messageID: receipt.messageID, sender: APITestBench.aliceAddress)
        #expect(status.recipients.allSatisfy { $0.state == "live" })
        #expect(try api.service.list(sender: APITestBench.aliceAddress).count == 1)
    }

    @Test("a method an API path does not serve answers 405 with Allow; an unknown path is still 404")
    func methodNotAllowed() async throws {
        let api = try APITestBench()
        let cases: [(HTTPRequest.Method, String, String)] = [
            (.trace, "/api/v1/messages", "GET, POST"), (.delete, "/api/v1/messages", "GET, POST"),
            (.put, "/api/v1/messages/0123456789abcdef0123456789abcdef", "GET"),
            (.get, "/api/v1/messages/0123456789abcdef0123456789abcdef/revoke", "POST"),
            (.delete, "/api/v1/messages/x/cancel", "POST"),
        ]
        try await api.app().test(.router) { client in
            for (method, path, allow) in cases {
                let response = try await client.execute(uri: path, method: method, headers: APITestBench.json(api.alice))
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers[.allow] == allow, "\(method) \(path)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(problem(response)["type"] as? String == "urn:retract:problem:method-not-allowed")
            }
            for path in ["/api/v1/nothing", "/api/v1/messages/x/y/z", "/api/v2/messages"] {
                let response = try await client.execute(uri: path, method: .trace, headers: APITestBench.json(api.alice))
                #expect(response.status == .notFound, "\(path)")
            }
            // The served methods are untouched.
            let list = try await client.execute(uri: "/api/v1/messages", method: .get, headers: APITestBench.json(api.alice))
            #expect(list.status == .ok)
        }
    }

    @Test("revoking an address the message was not sent to answers the declared 422 naming recipients, and revokes nobody")
    func revokeNonRecipient() async throws {
        let api = try APITestBench()
        let receipt = try await api.service.send(
            Draft(from: APITestBench.aliceAddress, to: ["bob@partner.test"], subject: "S", body: "B"))
        try await api.app().test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)/revoke", method: .post,
                headers: APITestBench.json(api.alice),
                body: APITestBench.body(["recipients": ["bob@partner.test", "carol@partner.example"]]))
            #expect(response.status == .unprocessableContent)
            let body = problem(response)
            #expect(body["type"] as? String == "urn:retract:problem:recipient-not-found")
            #expect(body["field"] as? String == "recipients")
            #expect((body["detail"] as? String)?.contains("carol@partner.example is not a recipient") == true)
        }
        let status = try api.service.status(messageID: receipt.messageID, sender: APITestBench.aliceAddress)
        #expect(status.recipients.allSatisfy { $0.state == "live" })
        // The contract declares it: revoke's 422.
        let spec = try OpenAPISpecTests.specText()
        #expect(spec.contains("urn:retract:problem:recipient-not-found"))
        let document = try OpenAPISpecTests.document()
        let revoke = try #require(document.paths["/messages/{id}/revoke"]?.pathItemValue?.post)
        #expect(revoke.responses[status: 422] != nil)
        #expect(revoke.responses[status: 404] != nil)
    }
}
