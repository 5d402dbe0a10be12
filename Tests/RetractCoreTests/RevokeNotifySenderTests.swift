import Foundation
import Mail
import RetractCore
import RetractTestSupport
import Testing

/// Every way of revoking mails the sender the recall report, unless they say not to.
@Suite("The recall report to the sender")
struct RevokeNotifySenderTests {
    static func sent(_ bench: TestBench) async throws -> String {
        try await bench.service.send(
            Draft(from: "Alice <alice@corp.test>", to: ["bob@partner.test"], subject: "Price list", body: "100"))
            .messageID
    }

    static func reports(_ bench: TestBench) throws -> [ParsedMail] {
        try bench.deliveredMail().filter {
            $0.header("To")?.contains("alice@corp.test") == true && $0.header("Subject")?.hasPrefix("Recall report") == true
        }
    }

    @Test("a revocation mails the sender the report by default")
    func reportByDefault() async throws {
        let bench = try TestBench()
        let id = try await Self.sent(bench)
        _ = try await bench.service.revoke(RevokeRequest(messageID: id, reason: "wrong list"))
        #expect(try Self.reports(bench).count == 1)
    }

    @Test("notifySender: false (--notify-sender none, notify_sender: none) mails the sender nothing, the recipients still get their notices")
    func noReport() async throws {
        let bench = try TestBench()
        let id = try await Self.sent(bench)
        let report = try await bench.service.revoke(RevokeRequest(messageID: id, notifySender: false))
        #expect(report.recipients.map(\.address) == ["bob@partner.test"])
        #expect(try Self.reports(bench).isEmpty)
        let toBob = try bench.deliveredMail().filter { $0.header("To")?.contains("bob@partner.test") == true }
        #expect(toBob.contains { $0.header("Subject") == "Withdrawn: Price list" })
    }
}
