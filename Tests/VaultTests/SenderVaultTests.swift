import Foundation
import GRDB
import Testing

@testable import Vault

@Suite("Vault: sender accounts, web sessions and rate-limit events")
struct SenderVaultTests {
    let at = Date(timeIntervalSince1970: 1_800_000_000)

    func alice(hash: UInt8 = 1) -> SenderRecord {
        SenderRecord(
            address: "alice@corp.test", name: "Alice", tokenHash: Data(repeating: hash, count: 32), createdAt: at)
    }

    @Test("pruning old rate-limit events reads an index, not the whole table, so a failure costs the same however many there are")
    func pruneUsesIndex() throws {
        let vault = try VaultDatabase.inMemory()
        let plan = try vault.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN DELETE FROM rate_limit_events WHERE at < ?", arguments: [at])
                .map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING") && $0.contains("INDEX rate_limit_events_age") }, "\(plan)")
    }

    @Test("a second account for the same address in another letter case is not inserted")
    func duplicateAddress() throws {
        let vault = try VaultDatabase.inMemory()
        #expect(try vault.insertSender(alice()))
        var shouting = alice(hash: 2)
        shouting.address = "ALICE@corp.test"
        #expect(try !vault.insertSender(shouting))
        #expect(try vault.senders().map(\.address) == ["alice@corp.test"])
        #expect(try vault.sender(address: "Alice@Corp.Test")?.tokenHash == Data(repeating: 1, count: 32))
    }

    @Test("an account is found by its token hash until the hash is replaced")
    func tokenHashLookup() throws {
        let vault = try VaultDatabase.inMemory()
        _ = try vault.insertSender(alice())
        #expect(try vault.sender(tokenHash: Data(repeating: 1, count: 32))?.address == "alice@corp.test")
        #expect(
            try vault.replaceSenderToken(address: "alice@corp.test", tokenHash: Data(repeating: 3, count: 32), at: at))
        #expect(try vault.sender(tokenHash: Data(repeating: 1, count: 32)) == nil)
        #expect(try vault.sender(tokenHash: Data(repeating: 3, count: 32))?.address == "alice@corp.test")
        #expect(
            try !vault.replaceSenderToken(address: "ghost@corp.test", tokenHash: Data(repeating: 4, count: 32), at: at))
    }

    @Test("deleting an account deletes its web sessions with it")
    func sessionsCascade() throws {
        let vault = try VaultDatabase.inMemory()
        _ = try vault.insertSender(alice())
        try vault.insertWebSession(
            WebSessionRecord(idHash: Data(repeating: 9, count: 32), sender: "alice@corp.test", at: at))
        #expect(try vault.webSession(idHash: Data(repeating: 9, count: 32))?.sender.address == "alice@corp.test")
        #expect(try vault.deleteSender(address: "alice@corp.test"))
        #expect(try vault.webSession(idHash: Data(repeating: 9, count: 32)) == nil)
        let left = try vault.reader.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM web_sessions") }
        #expect(left == 0)
    }

    @Test("rate-limit events survive reopening the vault file, and old ones are pruned when a new one is recorded")
    func rateLimitEventsPersist() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retract-ratelimit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let vault = try VaultDatabase.open(directory: directory)
            try vault.recordRateLimitEvent(
                scope: "signin-account", subject: "alice@corp.test", at: at, pruneBefore: .distantPast)
            try vault.recordRateLimitEvent(
                scope: "signin-account", subject: "alice@corp.test", at: at.addingTimeInterval(10),
                pruneBefore: .distantPast)
        }
        let reopened = try VaultDatabase.open(directory: directory)
        let events = try reopened.rateLimitEvents(
            scope: "signin-account", subject: "alice@corp.test", since: .distantPast)
        #expect(events == [at, at.addingTimeInterval(10)])
        #expect(
            try reopened.rateLimitEvents(scope: "signin-client", subject: "alice@corp.test", since: .distantPast)
                .isEmpty)
        try reopened.recordRateLimitEvent(
            scope: "signin-client", subject: "10.0.0.1", at: at.addingTimeInterval(100),
            pruneBefore: at.addingTimeInterval(5))
        #expect(
            try reopened.rateLimitEvents(scope: "signin-account", subject: "alice@corp.test", since: .distantPast)
                == [at.addingTimeInterval(10)])
        try reopened.clearRateLimitEvents(scope: "signin-account", subject: "alice@corp.test")
        #expect(
            try reopened.rateLimitEvents(scope: "signin-account", subject: "alice@corp.test", since: .distantPast)
                .isEmpty)
    }
}
