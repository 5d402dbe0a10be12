import Foundation
import Mail
import RetractCore
import RetractTestSupport
import Seal
import Testing
import Vault

@testable import Gateway
@testable import SMTP

/// Outlook's "Recall This Message" passing through the gateway becomes a real revocation.
@Suite("Native recall through the gateway")
struct NativeRecallTests {
    typealias Support = GatewayAcceptorTests

    /// Alice's sealed message To bob (external), Cc carol (internal); its vault id.
    static func sealedMessage(_ bench: TestBench, subject: String = "Quarterly numbers") async throws -> String {
        let message = try Support.received(
            bench, bytes: Support.original(subject: subject), recipients: ["bob@partner.test", "carol@corp.test"])
        let id = try Support.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()
        return id
    }

    /// Every delivered mail in the file outbox, parsed, with its row.
    static func outbox(_ bench: TestBench) throws -> [(row: OutboxMailRecord, bytes: [UInt8])] {
        try bench.service.vault.messages().flatMap { try Support.delivered(bench, messageID: $0.id) }
    }

    static func recall(
        _ bench: TestBench, _ bytes: [UInt8], recipients: [String] = ["bob@partner.test", "carol@corp.test"]
    ) async throws -> SMTPAcceptance {
        let message = try Support.received(bench, bytes: bytes, recipients: recipients)
        let acceptance = await GatewayAcceptor(service: bench.service).accept(message)
        _ = await bench.service.deliverDueMail()
        return acceptance
    }

    @Test(
        "each Exchange form revokes the external grant: the outsider gets Retract's withdrawal, not the recall; the colleague gets the recall unchanged; the sender the report",
        arguments: ["web", "classic", "tnef"])
    func recallRevokes(form: String) async throws {
        // Given a sealed message to bob (external) and carol (internal), bob's link opening it
        let bench = try Support.bench()
        let id = try await Self.sealedMessage(bench)
        let notification = try #require(try Support.delivered(bench, messageID: id).first { $0.row.kind == .notification })
        let link = try Link.parse(try #require(try ParsedMail(parsing: notification.bytes).links.first))
        _ = try await bench.service.open(token: link.token, linkKey: link.linkKey)

        // When Alice recalls it from Outlook, in this form
        let to = ["Bob <bob@partner.test>"]
        let bytes: [UInt8] =
            switch form {
            case "web": RecallFixtures.messageRecallEmail(subject: "Quarterly numbers", to: to, cc: ["carol@corp.test"])
            case "classic": RecallFixtures.legacyOutlookRecall(subject: "Quarterly numbers", to: to, cc: ["carol@corp.test"])
            default: RecallFixtures.tnefRecall(subject: "Quarterly numbers", to: to + ["carol@corp.test"])
            }
        let acceptance = try await Self.recall(bench, bytes)
        guard case .accepted = acceptance else {
            Issue.record("not accepted: \(acceptance)")
            return
        }

        // Then bob's grant is revoked and his link opens nothing
        #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt != nil })
        await #expect(throws: (any Error).self) { try await bench.service.open(token: link.token, linkKey: link.linkKey) }

        // And bob got Retract's notice (he had opened it: a correction-kind notice is a withdrawal with history), never the recall mail
        let all = try Self.outbox(bench)
        let toBob = all.filter { $0.row.recipient == "bob@partner.test" }
        #expect(toBob.contains { $0.row.kind == .withdrawal || $0.row.kind == .correction })
        #expect(!toBob.contains { String(decoding: $0.bytes, as: UTF8.self).contains("would like to recall") })
        #expect(!toBob.contains { $0.row.kind == .passthrough && $0.row.messageId != id })

        // And carol got the recall mail byte for byte after one Received line
        let toCarol = try #require(all.first { $0.row.recipient == "carol@corp.test" && $0.row.messageId != id })
        #expect(toCarol.row.kind == .passthrough)
        let crlf = try #require(toCarol.bytes.firstRange(of: [0x0D, 0x0A]))
        #expect(Array(toCarol.bytes[crlf.upperBound...]) == bytes)

        // And Alice got the recall report, saying bob had opened it
        let report = try #require(all.first { $0.row.kind == .report && $0.row.recipient == "alice@corp.test" })
        let text = try #require(try ParsedMail(parsing: report.bytes).textBody)
        #expect(text.contains("bob@partner.test"))
    }

    @Test("a recall that matches two sealed messages revokes nothing and lists both, each with a working manage link")
    func ambiguousRecall() async throws {
        // Given two sealed messages with the same subject to the same outsider
        let bench = try Support.bench()
        let first = try await Self.sealedMessage(bench)
        bench.clock.advance(60)
        let second = try await Self.sealedMessage(bench)
        bench.clock.advance(60)

        // When Alice recalls "Quarterly numbers"
        let acceptance = try await Self.recall(
            bench, RecallFixtures.messageRecallEmail(subject: "Quarterly numbers", to: ["bob@partner.test"]),
            recipients: ["bob@partner.test"])
        guard case .accepted = acceptance else {
            Issue.record("not accepted: \(acceptance)")
            return
        }

        // Then no grant is revoked
        for id in [first, second] {
            #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt == nil })
        }
        // And Alice got one mail listing both, with two manage links that open their pages
        let all = try Self.outbox(bench)
        let list = try #require(all.first { $0.row.kind == .report && $0.row.recipient == "alice@corp.test" })
        let parsed = try ParsedMail(parsing: list.bytes)
        #expect(parsed.header("Subject")?.contains("matches 2 messages") == true)
        #expect(parsed.header("Auto-Submitted") == "auto-replied")
        #expect(try pythonEmailDefects(list.bytes, in: bench.root) == "[]")
        let links = parsed.links.filter { $0.contains("/app/manage#") }
        #expect(links.count == 2)
        var opened: Set<String> = []
        for link in links {
            let capability = String(link[link.range(of: "#")!.upperBound...])
            let session = try await bench.service.beginManageSession(capability: capability, client: nil)
            opened.insert(session.messageScope ?? "")
        }
        #expect(opened == [first, second])
        // And the recall mail itself went on unchanged (bob gets Exchange's request as it came)
        #expect(all.contains { $0.row.recipient == "bob@partner.test" && $0.row.kind == .passthrough })
    }

    @Test("no match (another subject, another recipient, another sender, or older than the window) revokes nothing and passes the recall on as it came")
    func noMatch() async throws {
        let bench = try Support.bench { $0.recallWindow = 3600 }
        _ = try await Self.sealedMessage(bench)
        _ = try bench.service.addSender(address: "erin@corp.test", name: "Erin")
        var cases: [(String, [UInt8], [String])] = [
            ("subject", RecallFixtures.messageRecallEmail(subject: "Other subject", to: ["bob@partner.test"]), ["bob@partner.test"]),
            ("recipient", RecallFixtures.messageRecallEmail(subject: "Quarterly numbers", to: ["zed@else.test"]), ["zed@else.test"]),
        ]
        let erin = String(decoding: RecallFixtures.messageRecallEmail(subject: "Quarterly numbers", to: ["bob@partner.test"]), as: UTF8.self)
            .replacingOccurrences(of: "Alice Example <alice@corp.test>", with: "Erin <erin@corp.test>")
        cases.append(("sender", Array(erin.utf8), ["bob@partner.test"]))
        for (label, bytes, recipients) in cases {
            let acceptance = try await Self.recall(bench, bytes, recipients: recipients)
            guard case .accepted = acceptance else {
                Issue.record("\(label): not accepted: \(acceptance)")
                continue
            }
        }
        bench.clock.advance(3601)
        _ = try await Self.recall(
            bench, RecallFixtures.messageRecallEmail(subject: "Quarterly numbers", to: ["bob@partner.test"]),
            recipients: ["bob@partner.test"])

        // Then nothing was revoked, no grant was made for a recall mail, and each went on unchanged
        for message in try bench.service.vault.messages() {
            #expect(try bench.service.vault.grants(messageID: message.id).allSatisfy { $0.revokedAt == nil })
        }
        let all = try Self.outbox(bench)
        let passed = all.filter { $0.row.kind == .passthrough && String(decoding: $0.bytes, as: UTF8.self).contains("would like to recall") }
        #expect(passed.count == 4)
        #expect(!all.contains { $0.row.kind == .withdrawal || $0.row.kind == .correction })
    }

    @Test("a second recall of a revoked message sends no second notice")
    func secondRecallIsQuiet() async throws {
        let bench = try Support.bench()
        let id = try await Self.sealedMessage(bench)
        let recall = RecallFixtures.messageRecallEmail(subject: "Quarterly numbers", to: ["bob@partner.test"])
        _ = try await Self.recall(bench, recall, recipients: ["bob@partner.test"])
        let noticesAfterFirst = try Support.delivered(bench, messageID: id).filter { $0.row.kind == .withdrawal }.count
        _ = try await Self.recall(bench, recall, recipients: ["bob@partner.test"])
        let noticesAfterSecond = try Support.delivered(bench, messageID: id).filter { $0.row.kind == .withdrawal }.count
        #expect(noticesAfterFirst == 1)
        #expect(noticesAfterSecond == 1)
    }
}
