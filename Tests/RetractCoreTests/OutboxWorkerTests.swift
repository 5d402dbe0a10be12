import Foundation
@testable import Mail
import RetractTestSupport
import Synchronization
import Testing
import Vault

@testable import RetractCore

/// A transport that fails as told; the unit tests' stand-in for an SMTP server (the real
/// server is exercised by the end-to-end tests).
final class ScriptedTransport: MailTransport {
    let failures: Mutex<[MailError]>
    let delivered = Mutex<[String]>([])

    init(failures: [MailError]) {
        self.failures = Mutex(failures)
    }

    func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError) {
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        delivered.withLock { $0.append(id) }
    }
}

@Suite("The outbox worker")
struct OutboxWorkerTests {
    func bench(failures: [MailError]) throws -> (TestBench, RetractService, ScriptedTransport) {
        let bench = try TestBench()
        let transport = ScriptedTransport(failures: failures)
        let service = RetractService(
            configuration: bench.configuration, vault: bench.service.vault, keys: bench.service.keys,
            templates: bench.service.templates, transport: transport, now: { bench.clock.now })
        return (bench, service, transport)
    }

    @Test("a temporary failure is retried within a minute, with backoff, and then delivered")
    func temporaryFailureRetries() async throws {
        let (bench, service, transport) = try bench(failures: [MailError.rejected.with("421 try later", reply: "421 4.3.2 try later", temporary: true)])
        let receipt = try await service.send(Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        #expect(receipt.recipients[0].delivery == "retrying")
        let entry = try #require(try service.outbox().first)
        #expect(entry.state == "retrying")
        #expect(entry.why.contains("421 4.3.2 try later"))
        #expect(entry.notBefore.timeIntervalSince(bench.clock.now) <= 60)
        #expect(await service.deliverDueMail().delivered == 0, "not before its retry time")
        bench.clock.advance(61)
        #expect(await service.deliverDueMail().delivered == 1)
        #expect(transport.delivered.withLock { $0.count } == 1)
        #expect(try service.outbox().isEmpty)
    }

    @Test("a permanent failure stops at once and the sender sees it in the status")
    func permanentFailureStops() async throws {
        let (bench, service, _) = try bench(failures: [MailError.rejected.with("no such user", reply: "550 5.1.1 no such user", temporary: false)])
        let receipt = try await service.send(Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        bench.clock.advance(3600)
        #expect(await service.deliverDueMail().delivered == 0)
        let status = try service.status(messageID: receipt.messageID)
        #expect(status.recipients[0].delivery == "failed")
        #expect(status.recipients[0].deliveryError?.contains("550") == true)
    }

    @Test("temporary failures give up after the configured time")
    func givesUp() async throws {
        let failures = Array(repeating: MailError.rejected.with("busy", reply: "451 busy", temporary: true), count: 50)
        let (bench, service, _) = try bench(failures: failures)
        let receipt = try await service.send(Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        for _ in 0..<60 {
            bench.clock.advance(3601)
            _ = await service.deliverDueMail()
        }
        #expect(try service.status(messageID: receipt.messageID).recipients[0].delivery == "failed")
    }

    @Test("a mail claimed by a worker that died is delivered after the restart")
    func claimsOfADeadWorkerAreReleased() async throws {
        let (bench, service, transport) = try bench(failures: [])
        _ = try await service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b", delay: 10))
        bench.clock.advance(11)
        let claimed = try service.vault.claimDueMail(now: bench.clock.now).mails
        #expect(claimed.count == 1)
        #expect(await service.deliverDueMail().delivered == 0, "still claimed by the dead worker")
        try service.releaseAllClaims()
        #expect(await service.deliverDueMail().delivered == 1)
        #expect(transport.delivered.withLock { $0 } == claimed.map(\.id))
    }
}
