import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Seal
import Testing

/// The findings of the hostile test (issue 11) on the sender API's input: each answer is a
/// 400 that names its field, and nothing is stored.
@Suite("API input limits: durations, header fields, recipient and attachment counts")
struct APIInputBoundsTests {
    private func problem(_ response: TestResponse) -> (status: HTTPResponse.Status, field: String?, detail: String) {
        let body = APITestBench.object(response.body)
        return (response.status, body["field"] as? String, body["detail"] as? String ?? "")
    }

    @Test(
        "an expiry or delay beyond its bound is a 400 naming the field, as JSON number, JSON string or multipart; nothing is stored",
        arguments: [
            ("expires", "9223372036854775807"), ("expires", "253402300799"), ("expires", "\"253402300799\""),
            ("expires", "\"3651d\""), ("expires", "\"999999999999999w\""), ("expires", "\"0\""), ("expires", "1e300"),
            ("delay", "9223372036854775807"), ("delay", "\"31d\""), ("delay", "2592001"), ("delay", "-1"),
        ])
    func durationOutOfBounds(field: String, json: String) async throws {
        let api = try APITestBench()
        let body = "{\"to\":[\"bob@partner.test\"],\"subject\":\"S\",\"body\":\"B\",\"\(field)\":\(json)}"
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: ByteBuffer(string: body)
            ) { response in
                let answer = problem(response)
                #expect(answer.status == .badRequest)
                #expect(answer.field == field)
            }
            var form = MultipartBody()
            form.field("to", "bob@partner.test")
            form.field("subject", "S")
            form.field("body", "B")
            form.field(field, json.replacingOccurrences(of: "\"", with: ""))
            let multipart = form
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: multipart.headers(api.alice), body: multipart.closed
            ) { response in
                let answer = problem(response)
                #expect(answer.status == .badRequest)
                #expect(answer.field == field)
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
    }

    @Test("an empty multipart expires or delay field counts as absent, as a browser form sends it; a blank one is refused")
    func emptyMultipartDuration() async throws {
        let api = try APITestBench()
        var form = MultipartBody()
        form.field("to", "bob@partner.test")
        form.field("subject", "S")
        form.field("body", "B")
        form.field("expires", "")
        form.field("delay", "")
        let multipart = form
        // A blank that is not empty is not a duration (docs/openapi.yaml: DelayText, or empty)
        var spaced = MultipartBody()
        spaced.field("to", "bob@partner.test")
        spaced.field("subject", "S")
        spaced.field("body", "B")
        spaced.field("delay", " ")
        let blank = spaced
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: multipart.headers(api.alice), body: multipart.closed
            ) { response in
                #expect(response.status == .created)
            }
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: blank.headers(api.alice), body: blank.closed
            ) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("the longest allowed expiry and delay are accepted and stored as dates that read back")
    func durationAtTheBound() async throws {
        let api = try APITestBench()
        let id = try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body([
                    "to": ["bob@partner.test"], "subject": "S", "body": "B", "expires": "3650d", "delay": 2_592_000,
                ])
            ) { response in
                #expect(response.status == .created)
                return APITestBench.object(response.body)["id"] as? String ?? ""
            }
        }
        let status = try api.service.status(messageID: id)
        #expect(status.expiresAt == api.bench.clock.now.addingTimeInterval(3_650 * 86_400))
    }

    @Test("a subject holding the pair CR LF is a 400 like a lone CR or LF, not a 500", arguments: ["a\r\nBcc: x", "a\rb", "a\nb"])
    func subjectLineBreak(subject: String) async throws {
        let api = try APITestBench()
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body(["to": ["bob@partner.test"], "subject": subject, "body": "B"])
            ) { response in
                #expect(problem(response).status == .badRequest)
                #expect(problem(response).field == "subject")
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
    }

    @Test("more recipients than RETRACT_MAX_RECIPIENTS is a 400 naming to; nothing is stored")
    func tooManyRecipients() async throws {
        let api = try APITestBench()
        let recipients = (0...api.bench.configuration.maxRecipients).map { "r\($0)@partner.test" }
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body(["to": recipients, "subject": "S", "body": "B"])
            ) { response in
                let answer = problem(response)
                #expect(answer.status == .badRequest)
                #expect(answer.field == "to")
                #expect(answer.detail.contains("1000"))
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
    }

    @Test("more attachment parts than RETRACT_MAX_ATTACHMENTS is a 400; no upload file is left")
    func tooManyAttachments() async throws {
        let api = try APITestBench()
        var form = MultipartBody()
        form.field("to", "bob@partner.test")
        form.field("subject", "S")
        form.field("body", "B")
        for index in 0...api.bench.configuration.maxAttachments {
            form.file("attachment", fileName: "f\(index).txt", Array("file \(index)".utf8))
        }
        let multipart = form
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: multipart.headers(api.alice), body: multipart.closed
            ) { response in
                let answer = problem(response)
                #expect(answer.status == .badRequest)
                #expect(answer.field == "attachment")
            }
        }
        #expect(try api.service.list(sender: APITestBench.aliceAddress).isEmpty)
        #expect(api.leftoverUploads().isEmpty)
    }

    @Test("a correction whose subject holds CR LF is a 400 and revokes nothing")
    func replacementSubjectLineBreak() async throws {
        let api = try APITestBench()
        let receipt = try await api.service.send(
            Draft(from: APITestBench.aliceAddress, to: ["bob@partner.test"], subject: "S", body: "B"))
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)/revoke", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body(["replacement": ["subject": "Fixed\r\nBcc: eve@evil.test", "body": "new"]])
            ) { response in
                let answer = problem(response)
                #expect(answer.status == .badRequest)
                #expect(answer.field == "replacement.subject")
            }
        }
        #expect(try api.service.status(messageID: receipt.messageID).recipients[0].state == "live")
    }

    @Test("an attachment name loses its bidi controls and other format characters before it is stored")
    func attachmentNameFormatCharacters() async throws {
        let api = try APITestBench()
        var form = MultipartBody()
        form.field("to", "bob@partner.test")
        form.field("subject", "S")
        form.field("body", "B")
        form.file("attachment", fileName: "ü中文\u{202E}gnp.exe", Array("MZ".utf8))
        form.file("attachment", fileName: "in\u{200B}voice\u{2066}.pdf", Array("%PDF".utf8))
        let multipart = form
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: multipart.headers(api.alice), body: multipart.closed
            ) { response in
                #expect(response.status == .created)
            }
        }
        let notification = try #require(try api.bench.deliveredMail().first)
        let line = try #require(notification.links.first { $0.contains("/m/") })
        let link = try Link.parse(line)
        let opened = try await api.service.open(token: link.token, linkKey: link.linkKey)
        #expect(opened.envelope.attachments.map(\.name) == ["ü中文gnp.exe", "invoice.pdf"])
    }
}
