import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Seal
import Testing

@Suite("API routes through the real application")
struct APIRoutesTests {
    @Test("POST /messages with JSON seals and sends from the authenticated sender and answers 201")
    func createJSON() async throws {
        let api = try APITestBench()
        let created = try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body([
                    "to": ["bob@partner.test"], "cc": ["carol@partner.test"], "subject": "Price list",
                    "body": "Price: 100", "expires": "7d", "max_views": 3, "locale": "zh-Hans",
                ])
            ) { response in
                #expect(response.status == .created)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body = APITestBench.object(response.body)
                let id = try #require(body["id"] as? String)
                #expect(response.headers[.location] == "/api/v1/messages/\(id)")
                let recipients = body["recipients"] as? [[String: Any]] ?? []
                #expect(recipients.map { $0["address"] as? String } == ["bob@partner.test", "carol@partner.test"])
                #expect(recipients.allSatisfy { $0["link"] == nil })
                #expect(body["findings"] is [Any])
                return id
            }
        }
        let status = try api.service.status(messageID: created)
        #expect(status.sender == APITestBench.aliceAddress)
        #expect(status.maxViews == 3)
        #expect(status.locale == "zh-Hans")
        let notification = try #require(try api.bench.deliveredMail().first)
        #expect(notification.header("Reply-To")?.contains(APITestBench.aliceAddress) == true)
    }

    @Test("POST /messages as multipart streams the attachment into the sealed message and leaves no upload behind")
    func createMultipart() async throws {
        let api = try APITestBench()
        let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var builder = MultipartBody()
        builder.field("to", "bob@partner.test")
        builder.field("to", "dave@partner.test")
        builder.field("subject", "Contract")
        builder.field("body", "The contract is attached.")
        builder.field("delay", "0")
        builder.file("attachment", fileName: "contract v2.pdf", content)
        let form = builder
        let id = try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: form.headers(api.alice), body: form.closed
            ) { response in
                #expect(response.status == .created)
                let body = APITestBench.object(response.body)
                #expect(
                    (body["findings"] as? [[String: Any]])?.contains { $0["code"] as? String == "missing_attachment" }
                        == false)
                return try #require(body["id"] as? String)
            }
        }
        #expect(api.leftoverUploads().isEmpty)
        let status = try api.service.status(messageID: id)
        #expect(status.attachments == 1)
        #expect(status.recipients.count == 2)
        let mail = try #require(try api.bench.deliveredMail().first { $0.header("To")?.contains("bob@") == true })
        let link = try Link.parse(try #require(mail.links.first))
        let download = try await api.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        #expect(download.name == "contract v2.pdf")
        var received: [UInt8] = []
        while let chunk = try await download.nextChunk() { received += chunk }
        let same = received == content
        #expect(same)
    }

    @Test("verify: true makes the recipient's link ask for the code mailed to the recipient")
    func createWithVerify() async throws {
        let api = try APITestBench()
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: APITestBench.json(api.alice),
                body: APITestBench.body([
                    "to": ["bob@partner.test"], "subject": "Salary", "body": "Confidential", "verify": true,
                ])
            ) { response in
                #expect(response.status == .created)
            }
        }
        let mail = try #require(try api.bench.deliveredMail().first)
        let link = try Link.parse(try #require(mail.links.first))
        var asksForCode = false
        do {
            _ = try await api.service.open(token: link.token, linkKey: link.linkKey)
        } catch let failure as OpenFailure {
            if case .codeRequired = failure { asksForCode = true }
        }
        #expect(asksForCode)
    }

    @Test("GET /messages lists only the authenticated sender's messages")
    func listIsPerSender() async throws {
        let api = try APITestBench()
        let mine = try await api.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "Mine", body: "x"))
        _ = try await api.service.send(
            Draft(from: "mallory@corp.test", to: ["bob@partner.test"], subject: "Theirs", body: "y"))
        try await api.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/messages", method: .get, headers: APITestBench.json(api.alice)) {
                response in
                #expect(response.status == .ok)
                let messages = APITestBench.object(response.body)["messages"] as? [[String: Any]] ?? []
                #expect(messages.map { $0["id"] as? String } == [mine.messageID])
                #expect(messages.first?["subject"] as? String == "Mine")
            }
        }
    }

    @Test("GET /messages/{id} shows each recipient's delivery, first open and revocation")
    func showMessage() async throws {
        let api = try APITestBench()
        let receipt = try await api.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test", "carol@partner.test"], subject: "S", body: "B"))
        let bob = try Link.parse(receipt.recipients[0].link)
        _ = try await api.service.open(token: bob.token, linkKey: bob.linkKey)
        _ = try await api.service.revoke(
            RevokeRequest(messageID: receipt.messageID, recipients: ["carol@partner.test"], reason: "wrong address"))
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)", method: .get, headers: APITestBench.json(api.alice)
            ) { response in
                #expect(response.status == .ok)
                let body = APITestBench.object(response.body)
                #expect(body["id"] as? String == receipt.messageID)
                let rows = body["recipients"] as? [[String: Any]] ?? []
                let bobRow = try #require(rows.first { $0["address"] as? String == "bob@partner.test" })
                let carolRow = try #require(rows.first { $0["address"] as? String == "carol@partner.test" })
                #expect(bobRow["delivery"] as? String == "sent")
                #expect(bobRow["first_opened_at"] is String)
                #expect(bobRow["state"] as? String == "live")
                #expect(carolRow["state"] as? String == "revoked")
                #expect(carolRow["revoked_at"] is String)
                #expect(carolRow["revoke_reason"] as? String == "wrong address")
            }
        }
    }

    @Test("POST /messages/{id}/revoke answers the recall report, with the replacement's id")
    func revoke() async throws {
        let api = try APITestBench()
        let receipt = try await api.service.send(
            Draft(
                from: "alice@corp.test", to: ["bob@partner.test", "carol@partner.test"], subject: "Price", body: "100"))
        let bob = try Link.parse(receipt.recipients[0].link)
        _ = try await api.service.open(token: bob.token, linkKey: bob.linkKey)
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)/revoke", method: .post,
                headers: APITestBench.json(api.alice),
                body: APITestBench.body([
                    "reason": "price corrected", "notify": "all",
                    "replacement": ["subject": "Price (corrected)", "body": "120"],
                ])
            ) { response in
                #expect(response.status == .ok)
                let report = APITestBench.object(response.body)
                #expect(report["id"] as? String == receipt.messageID)
                #expect(report["replacement_id"] is String)
                let rows = report["recipients"] as? [[String: Any]] ?? []
                let bobRow = try #require(rows.first { $0["address"] as? String == "bob@partner.test" })
                let carolRow = try #require(rows.first { $0["address"] as? String == "carol@partner.test" })
                #expect(bobRow["outcome"] as? String == "revoked_after_open")
                #expect(bobRow["notice"] as? String == "correction")
                #expect(carolRow["outcome"] as? String == "revoked_before_open")
                #expect(carolRow["notice"] as? String == "correction")
                #expect(carolRow["replacement_sent"] as? Bool == true)
            }
        }
        await #expect(throws: OpenFailure.self) {
            _ = try await api.service.open(token: bob.token, linkKey: bob.linkKey)
        }
    }

    @Test("POST /messages/{id}/cancel inside the send delay cancels every notification; nothing is mailed")
    func cancelInsideDelay() async throws {
        let api = try APITestBench(defaultSendDelay: 600)
        let receipt = try await api.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "Oops", body: "x"))
        try await api.app().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/messages/\(receipt.messageID)/cancel", method: .post,
                headers: APITestBench.json(api.alice)
            ) { response in
                #expect(response.status == .ok)
                let rows = APITestBench.object(response.body)["recipients"] as? [[String: Any]] ?? []
                #expect(rows.map { $0["outcome"] as? String } == ["cancelled_before_delivery"])
            }
        }
        api.bench.clock.advance(601)
        _ = await api.service.deliverDueMail()
        #expect(try api.bench.deliveredMail().isEmpty)
    }
}
