import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Mail
import RetractCore
import RetractTestSupport
import Synchronization
import Testing
import Vault

@testable import RetractServer

/// `/healthz` (the process is up) and `/readyz` (the vault answers) for a load balancer,
/// over real loopback connections: no authentication, the strict headers of every response,
/// and a one-line reason that names no internals when the node is not ready.
@Suite("Health routes: /healthz for liveness, /readyz for the vault", .serialized)
struct HealthRoutesTests {
    /// The headers every Retract response carries.
    static func expectStrictHeaders(_ response: TestResponse) {
        #expect(
            response.headers[.contentSecurityPolicy]
                == SecurityHeadersMiddleware<RetractRequestContext>.contentSecurityPolicy)
        #expect(response.headers[.xContentTypeOptions] == "nosniff")
        #expect(response.headers[.cacheControl] == "no-store")
        #expect(response.headers[.xFrameOptions] == "DENY")
    }

    @Test("/healthz answers 200 {\"status\":\"ok\"} as before, and /readyz 200 ready, both without credentials")
    func healthyNode() async throws {
        let bench = try TestBench()
        try await Application(router: try await buildRouter(service: bench.service)).test(.live) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(health.text == #"{"status":"ok"}"#)
            Self.expectStrictHeaders(health)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.text == "ready\n")
            #expect(ready.headers[.contentType] == "text/plain; charset=utf-8")
            Self.expectStrictHeaders(ready)
        }
    }

    @Test(
        "with the vault's database closed, /readyz answers 503 with one line that names no internals; /healthz stays 200"
    )
    func closedDatabase() async throws {
        let bench = try TestBench()
        let router = try await buildRouter(service: bench.service)
        // When the database connection goes away under the running service
        try bench.service.vault.reader.close()
        try await Application(router: router).test(.live) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.text == "not ready: the database cannot be read\n")
            #expect(!ready.text.lowercased().contains("sqlite"))
            Self.expectStrictHeaders(ready)
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
        }
    }

    @Test("while the vault does not answer, /readyz answers 503 after its timeout; once it answers again, 200")
    func unresponsiveDatabase() async throws {
        // Given a service on a vault with one connection (in memory), which the test can hold
        let bench = try TestBench()
        let service = RetractService(
            configuration: bench.configuration, vault: try VaultDatabase.inMemory(), keys: bench.service.keys,
            templates: bench.service.templates, transport: bench.service.transport, now: { bench.clock.now })
        let probe = ReadinessProbe(service: service, timeout: .seconds(1))
        let router = try await buildRouter(service: service, readiness: probe)
        let hold = VaultHold(service.vault)
        try await Application(router: router).test(.live) { client in
            // When another reader holds the vault's only connection
            await hold.start()
            let waiting = try await client.execute(uri: "/readyz", method: .get)
            #expect(waiting.status == .serviceUnavailable)
            #expect(waiting.text == "not ready: the database did not answer within 1 s\n")
            Self.expectStrictHeaders(waiting)
            // Then, once it lets go, the node is ready again (the check that was waiting finishes)
            hold.release()
            var answers: [HTTPResponse.Status] = []
            for _ in 0..<30 where answers.last != .ok {
                answers.append(try await client.execute(uri: "/readyz", method: .get).status)
            }
            #expect(answers.last == .ok)
        }
    }

    @Test("polls that arrive while a check hangs all answer 503 and start no second read")
    func oneCheckAtATime() async throws {
        let reads = Mutex(0)
        let gate = VaultHold.Gate()
        let probe = ReadinessProbe(timeout: .milliseconds(50), logger: Logger(label: "test")) {
            reads.withLock { $0 += 1 }
            await gate.wait()
        }
        let outcomes = await withTaskGroup(of: ReadinessProbe.Outcome.self) { group in
            for _ in 0..<5 { group.addTask { await probe.outcome() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { $0 != .ready })
        #expect(reads.withLock { $0 } == 1)
        gate.open()
        // The hung check finishes and the next poll starts a fresh one that succeeds.
        var outcome = await probe.outcome()
        for _ in 0..<30 where outcome != .ready { outcome = await probe.outcome() }
        #expect(outcome == .ready)
    }
}

/// Holds a vault's only connection (an in-memory vault's queue) from a thread of its own
/// until released, the way a long query or a stuck database would.
final class VaultHold: Sendable {
    /// A one-shot gate that async and blocking code can wait on.
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        private let opened = Mutex(false)

        func open() {
            let first = opened.withLock { was in
                defer { was = true }
                return !was
            }
            if first { semaphore.signal() }
        }

        /// Blocks the calling thread until `open()`; passes the signal on to the next waiter.
        func block() {
            semaphore.wait()
            semaphore.signal()
        }

        /// Waits, without blocking a cooperative thread, until `open()`.
        func wait() async {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    self.block()
                    continuation.resume()
                }
            }
        }
    }

    private let vault: VaultDatabase
    private let held = Gate()
    private let released = Gate()

    init(_ vault: VaultDatabase) {
        self.vault = vault
    }

    /// Returns once the connection is held.
    func start() async {
        let vault = self.vault
        let held = self.held
        let released = self.released
        Thread.detachNewThread {
            try? vault.reader.read { _ in
                held.open()
                released.block()
            }
        }
        await held.wait()
    }

    func release() {
        released.open()
    }
}
