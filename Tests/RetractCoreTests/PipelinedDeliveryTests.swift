import Foundation
import Mail
import RetractTestSupport
import Synchronization
import Testing
import Vault

@testable import RetractCore

/// Wraps the real SMTP transport to look at the worker's gates and outcomes as they happen.
final class ObservedTransport: MailTransport {
    let inner: SMTPTransport
    /// Runs before the worker hears of mail i's outcome (so before mail i+1's checkpoint starts).
    let beforeOutcome: @Sendable (Int) async -> Void
    /// Runs after mail i's gate opened, before the server can accept mail i.
    let afterGate: @Sendable (Int) async -> Void

    init(
        _ inner: SMTPTransport, beforeOutcome: @escaping @Sendable (Int) async -> Void = { _ in },
        afterGate: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.inner = inner
        self.beforeOutcome = beforeOutcome
        self.afterGate = afterGate
    }

    func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError) {
        try await self.inner.deliver(data, envelope: envelope, id: id)
    }

    func deliverInOrder(
        _ mails: [(data: [UInt8], envelope: MailEnvelope, id: String)], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        let afterGate = self.afterGate
        let beforeOutcome = self.beforeOutcome
        await self.inner.deliverInOrder(
            mails,
            gate: { index in
                let open = await gate(index)
                if open { await afterGate(index) }
                return open
            },
            outcome: { index, result in
                await beforeOutcome(index)
                await outcome(index, result)
            })
    }
}

/// The outbox worker over the real SMTP client and a server that offers PIPELINING, where
/// each mail's envelope travels behind the previous mail's content.
@Suite("Delivery over a PIPELINING server", .serialized)
struct PipelinedDeliveryTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("pipelined-\(UUID().uuidString.prefix(8))")

    private func service(_ bench: TestBench, _ transport: any MailTransport) -> RetractService {
        RetractService(
            configuration: bench.configuration, vault: bench.service.vault, keys: bench.service.keys,
            templates: bench.service.templates, transport: transport, now: { bench.clock.now })
    }

    private func queue(_ count: Int, on service: RetractService, bench: TestBench) async throws -> SendReceipt {
        let receipt = try await service.send(
            Draft(
                from: "alice@corp.test", to: [], bcc: (0..<count).map { "r\($0)@partner.test" }, subject: "s", body: "b",
                delay: 60))
        bench.clock.advance(61)
        return receipt
    }

    private func sentCount(_ service: RetractService) throws -> Int {
        try service.vault.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'sent'") ?? 0
        }
    }

    @Test("every due notification arrives exactly once and is marked sent")
    func everyMailOnce() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink(["--pipelining"], in: root)
        defer { sink.stop() }
        let bench = try TestBench()
        let transport = SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)"))
        let service = self.service(bench, transport)
        _ = try await queue(40, on: service, bench: bench)

        let run = await service.deliverDueMail()
        await transport.close()

        #expect(run == { var r = DeliveryRun(); r.delivered = 40; return r }())
        let recipients = try sink.received().flatMap(\.recipients)
        #expect(recipients.count == 40 && Set(recipients).count == 40)
        #expect(try sentCount(service) == 40)
    }

    @Test("when a mail's gate opens, every mail the server accepted before it is already marked sent")
    func recordedBeforeTheNextIsAccepted() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink(["--pipelining"], in: root)
        defer { sink.stop() }
        let bench = try TestBench()
        let unrecorded = Mutex<[Int]>([])
        let holder = Mutex<RetractService?>(nil)
        let transport = ObservedTransport(
            SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)")),
            afterGate: { _ in
                guard let service = holder.withLock({ $0 }) else { return }
                let accepted = (try? sink.received().count) ?? -1
                let sent = (try? Self.sentCount(service)) ?? -1
                unrecorded.withLock { $0.append(accepted - sent) }
            })
        let service = self.service(bench, transport)
        holder.withLock { $0 = service }
        _ = try await queue(25, on: service, bench: bench)

        #expect(await service.deliverDueMail().delivered == 25)

        let gaps = unrecorded.withLock { $0 }
        #expect(gaps.count == 25)
        #expect(gaps.allSatisfy { $0 == 0 }, "accepted minus marked sent at each gate: \(gaps)")
    }

    private static func isRevoked(_ recipient: String, _ service: RetractService) throws -> Bool {
        try service.vault.reader.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT g.revoked_at IS NOT NULL FROM outbox o JOIN grants g ON g.id = o.grant_id
                    WHERE o.recipient = ? AND o.kind = 'notification'
                    """,
                arguments: [recipient]) ?? false
        }
    }

    private static func sentCount(_ service: RetractService) throws -> Int {
        try service.vault.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'sent'") ?? 0
        }
    }

    @Test("a notification revoked after the claim is withheld at its gate, cancelled, and never reaches the server")
    func revokedAfterClaimIsWithheld() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink(["--pipelining"], in: root)
        defer { sink.stop() }
        let bench = try TestBench()
        let holder = Mutex<(RetractService, String)?>(nil)
        let revoking = Mutex<Task<Void, Never>?>(nil)
        // Mail 5's envelope is already on the wire behind mail 4's content when mail 4's
        // outcome arrives; the revoke commits before mail 5's checkpoint starts. (The revoke
        // runs in its own task, as from another request: it then runs the worker itself,
        // which waits for the transport this batch holds.)
        let transport = ObservedTransport(
            SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)")),
            beforeOutcome: { index in
                guard index == 4, let (service, messageID) = holder.withLock({ $0 }) else { return }
                revoking.withLock {
                    $0 = Task {
                        _ = try? await service.revoke(
                            RevokeRequest(messageID: messageID, recipients: ["r5@partner.test"], notify: .none))
                    }
                }
                for _ in 0..<1000 where !((try? Self.isRevoked("r5@partner.test", service)) ?? false) {
                    try? await Task.sleep(for: .milliseconds(10))
                }
            })
        let service = self.service(bench, transport)
        let receipt = try await queue(10, on: service, bench: bench)
        holder.withLock { $0 = (service, receipt.messageID) }

        let run = await service.deliverDueMail()
        await revoking.withLock { $0 }?.value

        #expect(run.delivered == 9 && run.cancelled == 1 && run.deferred == 0 && run.failed == 0)
        // The revoke's own worker pass may send the sender a report afterwards; count the notifications.
        let recipients = try sink.received().flatMap(\.recipients).filter { $0.hasSuffix("@partner.test") }
        #expect(!recipients.contains("r5@partner.test"))
        #expect(Set(recipients).count == 9 && recipients.count == 9)
        let state = try await service.vault.reader.read { db in
            try String.fetchOne(db, sql: "SELECT state FROM outbox WHERE recipient = 'r5@partner.test'")
        }
        #expect(state == "cancelled")
    }
}
