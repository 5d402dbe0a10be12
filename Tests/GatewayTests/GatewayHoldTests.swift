import Foundation
import Gateway
import Mail
import RetractTestSupport
import SMTP
import Testing

@testable import RetractCore
@testable import Vault

/// Issue 18, item 5: the undo window for every mail client. With `RETRACT_GATEWAY_HOLD` the
/// gateway holds a sealed message's notifications; the receipt reaches the sender at once,
/// says until when, lists the pre-send warnings, and its manage link cancels.
@Suite("Gateway hold: an undo window for mail from any client")
struct GatewayHoldTests {
    /// A plain message To an outsider and Cc a colleague; `body` is its text.
    static func message(body: String) -> [UInt8] {
        let lines = [
            "From: Alice Example <alice@corp.test>", "To: Bob <bob@partner.test>", "Cc: Carol <carol@corp.test>",
            "Subject: Budget", "Message-ID: <hold-1@corp.test>", "Date: Thu, 03 Dec 2026 12:00:00 +0000",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// The text of the receipt the sender got for `id`.
    static func receiptText(_ bench: TestBench, id: String) throws -> String {
        let row = try #require(try bench.service.vault.outboxMail(messageID: id).first { $0.kind == .receipt })
        let file = bench.configuration.outboxDirectory.appendingPathComponent("\(row.id).eml")
        return try ParsedMail(parsing: [UInt8](try Data(contentsOf: file))).textBody ?? ""
    }

    @Test("with a hold the colleague's copy and the receipt leave at once, the outsider's link waits until the hold ends")
    func holdDelaysOnlyTheNotifications() async throws {
        // Given a gateway holding sealed mail for 60 seconds
        let bench = try GatewayAcceptorTests.bench { $0.gatewayHold = 60 }
        let message = try GatewayAcceptorTests.received(
            bench, bytes: Self.message(body: "Hello Bob, the budget is final."),
            recipients: ["bob@partner.test", "carol@corp.test"])

        // When it accepts a message and the worker runs at once
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()

        // Then the copy and the receipt are sent, the notification still waits for its time
        let rows = try bench.service.vault.outboxMail(messageID: id)
        #expect(rows.first { $0.kind == .passthrough }?.state == .sent)
        #expect(rows.first { $0.kind == .receipt }?.state == .sent)
        let notification = try #require(rows.first { $0.kind == .notification })
        #expect(notification.state == .queued)
        #expect(notification.notBefore == bench.clock.now.addingTimeInterval(60))
        // And the receipt says until when, and how to cancel
        let text = try Self.receiptText(bench, id: id)
        #expect(text.contains("Nothing has left for them yet: the links go out at"))
        #expect(text.contains("press Undo"))
        #expect(text.contains("/app/manage#"))
        #expect(!text.contains("pre-send checks"), "no warnings, no list")

        // When the hold is over the notification leaves
        bench.clock.advance(61)
        _ = await bench.service.deliverDueMail()
        #expect(try bench.service.vault.outboxMail(messageID: id).first { $0.kind == .notification }?.state == .sent)
    }

    @Test("cancelled within the hold, the outsider's notification never leaves, also after the hold")
    func cancelWithinTheHold() async throws {
        // Given a held message
        let bench = try GatewayAcceptorTests.bench { $0.gatewayHold = 60 }
        let message = try GatewayAcceptorTests.received(
            bench, bytes: Self.message(body: "Hello Bob, the budget is final."),
            recipients: ["bob@partner.test", "carol@corp.test"])
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()

        // When the sender cancels it (the manage page's Undo) and the hold passes
        let report = try await bench.service.cancel(messageID: id, sender: "alice@corp.test")
        bench.clock.advance(3_600)
        _ = await bench.service.deliverDueMail()

        // Then the notification was cancelled, never written, and the link is gone
        #expect(report.recipients.map(\.address) == ["bob@partner.test"])
        let rows = try bench.service.vault.outboxMail(messageID: id)
        let notification = try #require(rows.first { $0.kind == .notification })
        #expect(notification.state == .cancelled)
        let written = bench.configuration.outboxDirectory.appendingPathComponent("\(notification.id).eml")
        #expect(!FileManager.default.fileExists(atPath: written.path))
        #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt != nil })
    }

    @Test("mail with pre-send warnings is held for RETRACT_GATEWAY_HOLD_FINDINGS and the receipt lists the warnings")
    func warningsHoldLonger() async throws {
        // Given a hold of 60 s, and of an hour for mail with warnings
        let bench = try GatewayAcceptorTests.bench {
            $0.gatewayHold = 60
            $0.gatewayHoldWithFindings = 3_600
        }
        // When a message mentions an attachment but has none
        let message = try GatewayAcceptorTests.received(
            bench, bytes: Self.message(body: "Hello Bob, see the attached budget."),
            recipients: ["bob@partner.test", "carol@corp.test"])
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()

        // Then its notification waits an hour, and the receipt names the warning
        let notification = try #require(
            try bench.service.vault.outboxMail(messageID: id).first { $0.kind == .notification })
        #expect(notification.notBefore == bench.clock.now.addingTimeInterval(3_600))
        let text = try Self.receiptText(bench, id: id)
        #expect(text.contains("check what the pre-send checks found"))
        #expect(text.contains("mentions an attachment"))
    }

    @Test("without a hold nothing changes: notifications leave with the send delay and the receipt promises no wait")
    func noHoldByDefault() async throws {
        let bench = try GatewayAcceptorTests.bench()
        let message = try GatewayAcceptorTests.received(
            bench, bytes: Self.message(body: "Hello Bob, the budget is final."),
            recipients: ["bob@partner.test", "carol@corp.test"])
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()
        #expect(try bench.service.vault.outboxMail(messageID: id).allSatisfy { $0.state == .sent })
        #expect(!(try Self.receiptText(bench, id: id)).contains("Nothing has left"))
    }

    @Test("RETRACT_GATEWAY_HOLD and RETRACT_GATEWAY_HOLD_FINDINGS take a duration or off; a bad value is named")
    func settings() throws {
        var configuration = RetractConfiguration(
            dataDirectory: URL(fileURLWithPath: "/tmp/x"), keysDirectory: URL(fileURLWithPath: "/tmp/y"))
        try configuration.applyGatewaySettings {
            ["RETRACT_GATEWAY_HOLD": "60s", "RETRACT_GATEWAY_HOLD_FINDINGS": "30m"][$0]
        }
        #expect(configuration.gatewayHold == 60)
        #expect(configuration.gatewayHoldWithFindings == 1_800)
        #expect(configuration.gatewayHold(hasWarnings: false) == 60)
        #expect(configuration.gatewayHold(hasWarnings: true) == 1_800)
        try configuration.applyGatewaySettings { ["RETRACT_GATEWAY_HOLD": "off"][$0] }
        #expect(configuration.gatewayHold == nil)
        #expect(throws: RetractError.self) {
            try configuration.applyGatewaySettings { ["RETRACT_GATEWAY_HOLD": "soon"][$0] }
        }
        do {
            try configuration.applyGatewaySettings { ["RETRACT_GATEWAY_HOLD_FINDINGS": "40d"][$0] }
            Issue.record("40 days accepted")
        } catch {
            #expect(error.description.contains("RETRACT_GATEWAY_HOLD_FINDINGS"))
        }
    }
}
