import Foundation
import GRDB
import RetractTestSupport
import Seal
import Testing

@testable import RetractCore
@testable import Vault

/// The access log stays bounded: refused attempts of a limited link or client write
/// nothing, refusals that need no key are written once per window, and failures are
/// pruned after the retention.
@Suite("The access log's growth")
struct AccessLogTests {
    /// A message to bob that stays openable for a year.
    func sent(_ bench: TestBench) async throws -> (SendReceipt, Link) {
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b", expiresIn: 365 * 86_400))
        return (receipt, try Link.parse(receipt.recipients[0].link))
    }

    /// The access-log rows by result, and the rate-limit events.
    func rows(_ bench: TestBench) throws -> (events: [String: Int], rateLimits: Int) {
        try bench.service.vault.reader.read { db in
            var events: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT result, COUNT(*) FROM access_events GROUP BY result") {
                events[row[0]] = row[1]
            }
            return (events, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rate_limit_events") ?? 0)
        }
    }

    @Test("once ten wrong keys limit a link, refused attempts write no access-log row")
    func limitedLinkWritesNothing() async throws {
        // Given a link that ten wrong keys have limited
        let bench = try TestBench()
        let (_, link) = try await sent(bench)
        for _ in 0..<RetractService.failedAttemptLimit {
            await #expect(throws: OpenFailure.invalidKey) {
                try await bench.service.open(token: link.token, linkKey: LinkKey.generate())
            }
        }
        let before = try rows(bench)
        #expect(before.events["invalid_key"] == RetractService.failedAttemptLimit)

        // When fifty more attempts come, wrong keys and the right one
        for attempt in 0..<50 {
            await #expect(throws: OpenFailure.tooManyAttempts(retryAfter: Int(RetractService.failureWindow))) {
                try await bench.service.open(token: link.token, linkKey: attempt == 0 ? link.linkKey : LinkKey.generate())
            }
        }

        // Then the vault holds exactly what it held
        #expect(try rows(bench) == before)
    }

    @Test("once a client is limited, its failed opens of unknown tokens write nothing")
    func limitedClientWritesNothing() async throws {
        // Given a client whose failed opens of unknown tokens reached its limit
        let bench = try TestBench()
        let client = "203.0.113.9"
        for _ in 0..<RetractService.openClientFailureLimit {
            await #expect(throws: OpenFailure.invalidKey) {
                try await bench.service.open(token: GrantToken.random(), linkKey: LinkKey.generate(), client: client)
            }
        }
        let before = try rows(bench)
        #expect(before.events["invalid_key"] == RetractService.openClientFailureLimit)

        // When it goes on with fifty more unknown tokens
        for _ in 0..<50 {
            await #expect(throws: OpenFailure.tooManyAttempts(retryAfter: Int(RetractService.openClientWindow))) {
                try await bench.service.open(token: GrantToken.random(), linkKey: LinkKey.generate(), client: client)
            }
        }

        // Then neither the access log nor the rate-limit events grew
        #expect(try rows(bench) == before)
    }

    @Test("a revoked link tried again and again writes one refusal row per failure window")
    func refusalsAreWrittenOncePerWindow() async throws {
        // Given a revoked link
        let bench = try TestBench()
        let (receipt, link) = try await sent(bench)
        _ = try await bench.service.revoke(RevokeRequest(messageID: receipt.messageID))

        // When it is tried twenty times, then again after the failure window
        for _ in 0..<20 {
            await #expect(throws: OpenFailure.self) { try await bench.service.open(token: link.token, linkKey: link.linkKey) }
        }
        let within = try rows(bench).events["revoked"]
        bench.clock.advance(RetractService.failureWindow + 1)
        await #expect(throws: OpenFailure.self) { try await bench.service.open(token: link.token, linkKey: link.linkKey) }

        // Then one row stands for the twenty, and the later try has its own
        #expect(within == 1)
        #expect(try rows(bench).events["revoked"] == 2)
    }

    @Test("pruning deletes failures older than the retention and keeps successful opens and recent failures")
    func pruningKeepsOpens() async throws {
        // Given a successful open and a wrong key, then after more than the retention
        // (90 days by default) another wrong key and a download
        let bench = try TestBench()
        #expect(bench.configuration.accessLogRetention == 90 * 86_400)
        let (_, link) = try await sent(bench)
        _ = try await bench.service.open(token: link.token, linkKey: link.linkKey)
        await #expect(throws: OpenFailure.invalidKey) {
            try await bench.service.open(token: link.token, linkKey: LinkKey.generate())
        }
        bench.clock.advance(91 * 86_400)
        await #expect(throws: OpenFailure.invalidKey) {
            try await bench.service.open(token: link.token, linkKey: LinkKey.generate())
        }

        // When the access log is pruned
        let deleted = try bench.service.pruneAccessLog()

        // Then only the old failure is gone
        #expect(deleted == 1)
        #expect(try rows(bench).events == ["opened": 1, "invalid_key": 1])
    }

    @Test("pruning uses the partial index of failures by age")
    func pruningUsesItsIndex() throws {
        // Given a vault
        let vault = try VaultDatabase.inMemory()

        // When SQLite plans the pruning query
        let plan = try vault.reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN SELECT id FROM access_events
                    WHERE \(VaultDatabase.prunableResultsSQL) AND at < ? LIMIT 10
                    """,
                arguments: [Date()]
            ).map { $0["detail"] as String }
        }

        // Then it searches that index rather than scanning the table
        #expect(plan.contains { $0.contains("access_events_prunable") }, "\(plan)")
    }
}
