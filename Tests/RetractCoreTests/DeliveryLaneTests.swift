import Foundation
import Mail
import RetractTestSupport
import Synchronization
import Testing

@testable import RetractCore

/// A pool member that records which mails it carried and how many runs it had open at once.
final class LaneRecordingTransport: MailTransport {
    let carried = Mutex<[String]>([])
    let open = Mutex(0)
    let mostOpen = Mutex(0)

    func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError) {
        carried.withLock { $0.append(id) }
    }

    func deliverInOrder(
        _ mails: [(data: [UInt8], envelope: MailEnvelope, id: String)], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        let now = open.withLock { $0 += 1; return $0 }
        mostOpen.withLock { $0 = max($0, now) }
        defer { open.withLock { $0 -= 1 } }
        for (index, mail) in mails.enumerated() {
            guard await gate(index) else {
                await outcome(index, .success(false))
                continue
            }
            // Let the other lanes run in between, as a network round trip would.
            try? await Task.sleep(for: .milliseconds(1))
            carried.withLock { $0.append(mail.id) }
            await outcome(index, .success(true))
        }
    }
}

@Suite("Delivery lanes: one per connection of the transport")
struct DeliveryLaneTests {
    @Test("a pool of three delivers a 350-mail queue over several lanes, each mail exactly once")
    func lanesShareTheQueue() async throws {
        let bench = try TestBench()
        let members = (0..<3).map { _ in LaneRecordingTransport() }
        let pool = MailTransportPool(members)
        #expect(pool.deliveryLanes == 3)
        let service = RetractService(
            configuration: bench.configuration, vault: bench.service.vault, keys: bench.service.keys,
            templates: bench.service.templates, transport: pool, now: { bench.clock.now })
        let recipients = (0..<350).map { "r\($0)@partner.test" }
        _ = try await service.send(
            Draft(from: "alice@corp.test", to: [], bcc: recipients, subject: "s", body: "b", delay: 60))
        bench.clock.advance(61)

        let run = await service.deliverDueMail()

        #expect(run.delivered == 350 && run.deferred == 0 && run.failed == 0)
        let carried = members.flatMap { $0.carried.withLock { $0 } }
        #expect(carried.count == 350)
        #expect(Set(carried).count == 350, "no mail went out twice")
        #expect(members.filter { !$0.carried.withLock { $0 }.isEmpty }.count >= 2, "more than one lane carried mail")
        #expect(members.allSatisfy { $0.mostOpen.withLock { $0 } <= 1 }, "a member carries one run at a time")
        #expect(try service.outbox().isEmpty, "every mail is recorded as sent")
    }

    @Test("deliveries one after another all go through the pool's first member")
    func sequentialUseTheFirstMember() async throws {
        let members = (0..<2).map { _ in LaneRecordingTransport() }
        let pool = MailTransportPool(members)
        for index in 0..<3 {
            try await pool.deliver([], envelope: MailEnvelope(mailFrom: "a@b.test", recipients: ["c@d.test"]), id: "m\(index)")
        }
        #expect(members[0].carried.withLock { $0 } == ["m0", "m1", "m2"])
        #expect(members[1].carried.withLock { $0 }.isEmpty)
    }

    @Test("RETRACT_SMTP_CONNECTIONS' default makes a pool of four SMTP connections; one makes a single transport")
    func transportFromConfiguration() throws {
        var configuration = RetractConfiguration()
        configuration.smtpURL = "smtp://127.0.0.1:2525"
        #expect(try RetractService.makeTransport(configuration).deliveryLanes == 4)
        configuration.smtpConnections = 1
        #expect(try RetractService.makeTransport(configuration) is SMTPTransport)
        configuration.smtpURL = nil
        #expect(try RetractService.makeTransport(configuration) is FileOutboxTransport)
    }
}
