import Foundation
import Testing
import Vault

@testable import RetractCore

@Suite("RateLimiter over the vault's failure events")
struct SenderRateLimiterTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(
        "below the limit there is no wait; at the limit the wait ends when the oldest counted failure leaves the window"
    )
    func retryAfterFollowsTheWindow() async throws {
        let limiter = RateLimiter(vault: try VaultDatabase.inMemory())
        for offset in [0.0, 100, 200] {
            try await limiter.recordFailure(scope: "test", subject: "s", at: start.addingTimeInterval(offset))
        }
        let now = start.addingTimeInterval(300)
        #expect(try await limiter.retryAfter(scope: "test", subject: "s", limit: 4, window: 900, now: now) == nil)
        #expect(try await limiter.retryAfter(scope: "test", subject: "s", limit: 3, window: 900, now: now) == 600)
        #expect(try await limiter.retryAfter(scope: "test", subject: "s", limit: 2, window: 900, now: now) == 700)
        #expect(try await limiter.retryAfter(scope: "test", subject: "other", limit: 1, window: 900, now: now) == nil)
        #expect(try await limiter.retryAfter(scope: "other", subject: "s", limit: 1, window: 900, now: now) == nil)
        let later = start.addingTimeInterval(950)
        #expect(try await limiter.retryAfter(scope: "test", subject: "s", limit: 3, window: 900, now: later) == nil)
    }

    @Test("reset forgets a subject's failures in one scope only")
    func resetIsScoped() async throws {
        let limiter = RateLimiter(vault: try VaultDatabase.inMemory())
        try await limiter.recordFailure(scope: "a", subject: "s", at: start)
        try await limiter.recordFailure(scope: "b", subject: "s", at: start)
        try await limiter.reset(scope: "a", subject: "s")
        #expect(try await limiter.retryAfter(scope: "a", subject: "s", limit: 1, window: 60, now: start) == nil)
        #expect(try await limiter.retryAfter(scope: "b", subject: "s", limit: 1, window: 60, now: start) == 60)
    }
}
