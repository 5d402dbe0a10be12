import Hummingbird
import Logging
import NIOCore
import RetractCore
import Synchronization

/// Answers `GET /readyz` for a load balancer: 200 `ready` when the vault answers a trivial
/// read within `timeout`, else 503 with a one-line reason that names no internals.
///
/// `/healthz` says the process is up; this says whether the node can do its work, so a load
/// balancer stops sending readers to a node that has lost its database and sends them again
/// once it is back. At most one check runs at a time: requests that arrive while one is in
/// flight wait for it (each within its own timeout), so a hung database costs one waiting
/// read, not one per poll.
public final class ReadinessProbe: Sendable {
    /// What a check found.
    public enum Outcome: Sendable, Equatable {
        /// The vault answered.
        case ready
        /// The vault did not answer in time, or failed; the reason is safe to show anyone.
        case notReady(String)
    }

    /// The read: the rate-limit events of a scope nothing writes, which every backend
    /// answers from an index, touching no secret.
    private let check: @Sendable () async throws -> Void
    /// How long a request waits for the vault.
    let timeout: Duration
    private let logger: Logger
    private let inFlight = Mutex<Task<Outcome, Never>?>(nil)

    /// A probe of `service`'s vault that gives up after `timeout`.
    public convenience init(service: RetractService, timeout: Duration = .seconds(2)) {
        self.init(timeout: timeout, logger: service.logger) {
            _ = try await service.rateLimiter.retryAfter(
                scope: "readiness-probe", subject: "-", limit: 1, window: 1, now: service.now())
        }
    }

    /// A probe whose check is `check` (tests give their own).
    init(timeout: Duration, logger: Logger, check: @escaping @Sendable () async throws -> Void) {
        self.timeout = timeout
        self.logger = logger
        self.check = check
    }

    /// Whether the vault answers now.
    public func outcome() async -> Outcome {
        let running = currentCheck()
        let timeout = self.timeout
        let seconds = timeout.components.seconds
        return await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let once = Mutex(Optional(continuation))
            let resume: @Sendable (Outcome) -> Void = { outcome in
                once.withLock { $0.take() }?.resume(returning: outcome)
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { resume(.notReady("the database did not answer within \(seconds) s")) }
            }
            Task {
                let outcome = await running.value
                timer.cancel()
                resume(outcome)
            }
        }
    }

    /// The check in flight, or a new one.
    private func currentCheck() -> Task<Outcome, Never> {
        inFlight.withLock { current in
            if let current { return current }
            let task = Task { [check, logger] () -> Outcome in
                let outcome: Outcome
                do {
                    try await check()
                    outcome = .ready
                } catch {
                    logger.warning("readiness: the vault failed a read", metadata: ["error": "\(error)"])
                    outcome = .notReady("the database cannot be read")
                }
                self.inFlight.withLock { $0 = nil }
                return outcome
            }
            current = task
            return task
        }
    }

    /// The `/readyz` response for `outcome`: plain text, one line.
    static func response(_ outcome: Outcome) -> Response {
        let (status, text): (HTTPResponse.Status, String) =
            switch outcome {
            case .ready: (.ok, "ready\n")
            case .notReady(let reason): (.serviceUnavailable, "not ready: \(reason)\n")
            }
        return Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
