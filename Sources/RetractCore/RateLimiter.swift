import Foundation
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

    /// A limiter over `vault`'s events.
    public init(vault: VaultDatabase, retention: TimeInterval = 86_400) {
        self.vault = vault
        self.retention = retention
    }

    /// Seconds until `subject` may try again, or nil when fewer than `limit` failures fall
    /// inside the last `window` seconds.
    ///
    /// With `limit` failures in the window the next attempt is refused until the oldest of
    /// them leaves it; the answer is at least 1 so it can go straight into `Retry-After`.
    public func retryAfter(
        scope: String, subject: String, limit: Int, window: TimeInterval, now: Date
    ) async throws -> Int? {
        try retryAfterNow(scope: scope, subject: subject, limit: limit, window: window, now: now)
    }

    /// Counts one failure of `subject` under `scope` at `at`.
    public func recordFailure(scope: String, subject: String, at: Date) async throws {
        try recordFailureNow(scope: scope, subject: subject, at: at)
    }

    /// `retryAfter` for callers that must not suspend between the check and the record.
    func retryAfterNow(scope: String, subject: String, limit: Int, window: TimeInterval, now: Date) throws -> Int? {
        let events = try vault.rateLimitEvents(scope: scope, subject: subject, since: now.addingTimeInterval(-window))
        guard limit > 0, events.count >= limit else { return limit > 0 ? nil : Int(window.rounded(.up)) }
        let freedAt = events[events.count - limit].addingTimeInterval(window)
        return max(1, Int(freedAt.timeIntervalSince(now).rounded(.up)))
    }

    /// `recordFailure` for callers that must not suspend between the check and the record.
    func recordFailureNow(scope: String, subject: String, at: Date) throws {
        try vault.recordRateLimitEvent(
            scope: scope, subject: subject, at: at, pruneBefore: at.addingTimeInterval(-retention))
    }

    /// Forgets the failures of `subject` under `scope`, after it succeeded.
    public func reset(scope: String, subject: String) async throws {
        try vault.clearRateLimitEvents(scope: scope, subject: subject)
    }
}
