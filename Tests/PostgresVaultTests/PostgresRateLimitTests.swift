import Foundation
import PostgresVault
import Testing
import Vault

/// Rate limits on PostgreSQL are shared by every node, and a reservation is atomic across them.
@Suite("PostgreSQL vault: rate limits across nodes", .sharedPostgresCluster)
struct PostgresRateLimitTests {
    static let now = VaultFixtures.now

    static func check(_ subject: String, limit: Int, scope: String = "signin-account") -> VaultDatabase.RateLimitCheck {
        VaultDatabase.RateLimitCheck(scope: scope, subject: subject, limit: limit, since: now.addingTimeInterval(-900))
    }

    @Test("Events are counted per scope and subject, in the window; clear and delete take them back; old ones are pruned")
    func eventsCountAndClear() async throws {
        try await SharedPostgresCluster.vault { vault in
            try await vault.recordRateLimitEvent(
                scope: "signin-account", subject: "alice", at: Self.now.addingTimeInterval(-2000),
                pruneBefore: Self.now.addingTimeInterval(-3000))
            try await vault.recordRateLimitEvent(
                scope: "signin-account", subject: "alice", at: Self.now.addingTimeInterval(-10),
                pruneBefore: Self.now.addingTimeInterval(-3000))
            try await vault.recordRateLimitEvent(
                scope: "signin-client", subject: "alice", at: Self.now, pruneBefore: Self.now.addingTimeInterval(-3000))
            #expect(
                try await vault.rateLimitEvents(scope: "signin-account", subject: "alice", since: Self.now.addingTimeInterval(-900))
                    == [Self.now.addingTimeInterval(-10)])

            guard case .reserved(let ids) = try await vault.reserveRateLimitEvents(
                [Self.check("alice", limit: 2), Self.check("10.0.0.1", limit: 5, scope: "signin-client")], at: Self.now,
                pruneBefore: Self.now.addingTimeInterval(-1000))
            else {
                Issue.record("expected a reservation")
                return
            }
            #expect(ids.count == 2)
            // The pruning removed the event from 2,000 s ago.
            #expect(
                try await vault.rateLimitEvents(scope: "signin-account", subject: "alice", since: .distantPast).count == 2)

            let limited = try await vault.reserveRateLimitEvents(
                [Self.check("10.0.0.1", limit: 5, scope: "signin-client"), Self.check("alice", limit: 2)], at: Self.now,
                pruneBefore: Self.now.addingTimeInterval(-1000))
            #expect(limited == .limited([1: [Self.now.addingTimeInterval(-10), Self.now]]))

            try await vault.deleteRateLimitEvents(ids: ids)
            try await vault.clearRateLimitEvents(scope: "signin-account", subject: "alice")
            #expect(try await vault.rateLimitEvents(scope: "signin-account", subject: "alice", since: .distantPast).isEmpty)
            #expect(try await vault.rateLimitEvents(scope: "signin-client", subject: "alice", since: .distantPast).count == 1)
        }
    }

    @Test("Forty concurrent reservations on two nodes never exceed the limit of five")
    func concurrentReservationsNeverExceedTheLimit() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<40 {
                    let node = attempt.isMultiple(of: 2) ? a : b
                    group.addTask {
                        // Two limits per attempt, in either order (the locks are taken sorted).
                        let checks = [Self.check("bob", limit: 5), Self.check("10.0.0.9", limit: 100, scope: "signin-client")]
                        let reservation = try await node.reserveRateLimitEvents(
                            attempt.isMultiple(of: 3) ? checks.reversed() : checks, at: Self.now,
                            pruneBefore: Self.now.addingTimeInterval(-3600))
                        if case .reserved = reservation { return true }
                        return false
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 5)
            #expect(try await a.rateLimitEvents(scope: "signin-account", subject: "bob", since: .distantPast).count == 5)
            #expect(try await b.rateLimitEvents(scope: "signin-client", subject: "10.0.0.9", since: .distantPast).count == 5)
        }
    }
}
