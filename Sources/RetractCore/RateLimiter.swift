import Foundation
import RetractMetrics
import Vault

/// Counts failures (sign-ins, opens, codes) in the vault and says when a limit is reached.
///
/// The events live in the vault's `rate_limit_events` table, not in memory, so a limit holds
/// across restarts and across several `retract serve` processes on one vault.
public struct RateLimiter: Sendable {
    /// Where the events are kept.
    public let vault: VaultDatabase
    /// Events older than this are deleted when a new one is recorded; no window may be longer.
    public let retention: TimeInterval
    /// Where a refused attempt is counted, by scope (`retract_rate_limit_hits_total`).
    public let metrics: RetractMetrics

    /// A limiter over `vault`'s events.
    public init(vault: VaultDatabase, retention: TimeInterval = 86_400, metrics: RetractMetrics = .global) {
        self.vault = vault
        self.retention = retention
        self.metrics = metrics
    }

    /// Seconds until `subject` may try again, or nil when fewer than `limit` failures fall
    /// inside the last `window` seconds.
    ///
    /// With `limit` failures in the window the next attempt is refused until the oldest of
    /// them leaves it; the answer is at least 1 so it can go straight into `Retry-After`.
    public func retryAfter(
        scope: String, subject: String, limit: Int, window: TimeInterval, now: Date
    ) async throws -> Int? {
        let events = try vault.rateLimitEvents(scope: scope, subject: subject, since: now.addingTimeInterval(-window))
        guard limit > 0, events.count >= limit else { return limit > 0 ? nil : Int(window.rounded(.up)) }
        metrics.count(.rateLimitHits, ["scope": scope])
        let freedAt = events[events.count - limit].addingTimeInterval(window)
        return max(1, Int(freedAt.timeIntervalSince(now).rounded(.up)))
    }

    /// Counts one failure of `subject` under `scope` at `at`.
    public func recordFailure(scope: String, subject: String, at: Date) async throws {
        try vault.recordRateLimitEvent(
            scope: scope, subject: subject, at: at, pruneBefore: at.addingTimeInterval(-retention))
    }

    /// Forgets the failures of `subject` under `scope`, after it succeeded.
    public func reset(scope: String, subject: String) async throws {
        try vault.clearRateLimitEvents(scope: scope, subject: subject)
    }

    /// One limit of an attempt: at most `limit` failures of `subject` under `scope` in the
    /// last `window` seconds.
    public struct Limit: Sendable {
        var scope: String
        var subject: String
        var limit: Int
        var window: TimeInterval

        /// A limit.
        public init(scope: String, subject: String, limit: Int, window: TimeInterval) {
            self.scope = scope
            self.subject = subject
            self.limit = limit
            self.window = window
        }
    }

    /// What `begin` decided about an attempt.
    public enum Attempt: Sendable, Equatable {
        /// A limit is reached: refuse, and try again after this many seconds (at least 1).
        case refused(retryAfter: Int)
        /// Every limit had room; the attempt is counted as a failure of each until
        /// `withdraw` takes it back.
        case counted(events: [Int64])
    }

    /// Checks `limits` and counts the attempt as a failure of each, atomically, before the
    /// work it guards (a password hash) is done: so concurrent attempts cannot all pass the
    /// check first, and a refused attempt costs nothing but this one transaction.
    public func begin(_ limits: [Limit], now: Date) throws -> Attempt {
        let checks = limits.map {
            VaultDatabase.RateLimitCheck(
                scope: $0.scope, subject: $0.subject, limit: $0.limit, since: now.addingTimeInterval(-$0.window))
        }
        switch try vault.reserveRateLimitEvents(checks, at: now, pruneBefore: now.addingTimeInterval(-retention)) {
        case .reserved(let ids):
            return .counted(events: ids)
        case .limited(let reached):
            for (index, _) in reached { metrics.count(.rateLimitHits, ["scope": limits[index].scope]) }
            let waits = reached.map { index, events in
                let limit = limits[index]
                guard limit.limit > 0, events.count >= limit.limit else { return Int(limit.window.rounded(.up)) }
                let freedAt = events[events.count - limit.limit].addingTimeInterval(limit.window)
                return max(1, Int(freedAt.timeIntervalSince(now).rounded(.up)))
            }
            return .refused(retryAfter: waits.max() ?? 1)
        }
    }

    /// Takes back the failures `begin` counted for an attempt that succeeded or never ran.
    public func withdraw(_ attempt: Attempt) throws {
        guard case .counted(let events) = attempt else { return }
        try vault.deleteRateLimitEvents(ids: events)
    }
}
