import Foundation
import PostgresVault
import Testing
import Vault

/// Recipient verification codes and message listings on PostgreSQL.
@Suite("PostgreSQL vault: verification codes and listings", .sharedPostgresCluster)
struct PostgresVerificationTests {
    static let now = VaultFixtures.now

    static func storeGrant(_ vault: PostgresVaultDatabase) async throws -> (MessageRecord, Int64) {
        let message = VaultFixtures.message()
        let grant = VaultFixtures.grant(messageID: message.id, recipient: "bob@example.org")
        let stored = try await vault.storeSealedMessage(message, grants: [NewGrant(grant: grant, notification: nil)]) { _ in }
        return (message, try #require(stored.first?.id))
    }

    @Test("A code is issued with its mail, limited per window; the right code verifies once, wrong ones lock")
    func issueAndCheck() async throws {
        try await SharedPostgresCluster.vault { vault in
            let (message, grant) = try await Self.storeGrant(vault)
            func issue(_ code: UInt8, at: Date) async throws -> VerificationIssue {
                try await vault.issueVerificationCode(
                    grantID: grant, codeHash: Array(repeating: code, count: 32), at: at, expiresAt: at.addingTimeInterval(600),
                    mail: VaultFixtures.mail(messageID: message.id, kind: .verification), maxMails: 2, window: 3600)
            }
            #expect(try await vault.verificationState(grantID: grant) == nil)
            #expect(try await issue(1, at: Self.now) == .issued)
            #expect(try await issue(2, at: Self.now.addingTimeInterval(1)) == .issued)
            #expect(try await issue(3, at: Self.now.addingTimeInterval(2)) == .tooManyCodes(retryAt: Self.now.addingTimeInterval(3600)))
            #expect(try await vault.outboxMail(messageID: message.id).filter { $0.kind == .verification }.count == 2)

            func check(_ code: UInt8?, at: Date = Self.now.addingTimeInterval(10)) async throws -> VerificationCheck {
                try await vault.checkVerificationCode(
                    grantID: grant, candidateHash: code.map { Array(repeating: $0, count: 32) }, at: at, maxFailures: 3,
                    lockFor: 900, rememberFor: 86_400)
            }
            #expect(try await check(nil) == .codeRequired)
            #expect(try await check(1) == .invalid(remaining: 2))  // replaced by code 2
            #expect(try await check(2) == .verified(until: Self.now.addingTimeInterval(10 + 86_400)))
            #expect(try await check(2, at: Self.now.addingTimeInterval(20)) == .remembered(until: Self.now.addingTimeInterval(10 + 86_400)))
            let state = try #require(try await vault.verificationState(grantID: grant))
            #expect(state.codeHash == nil && state.failedCount == 0 && state.issuedAt == Self.now.addingTimeInterval(1))
        }
    }

    @Test("Concurrent wrong guesses on two nodes share one count: the limit locks the grant, no guess is lost")
    func concurrentGuessesShareOneCount() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let (message, grant) = try await Self.storeGrant(a)
            _ = try await a.issueVerificationCode(
                grantID: grant, codeHash: Array(repeating: 7, count: 32), at: Self.now, expiresAt: Self.now.addingTimeInterval(600),
                mail: VaultFixtures.mail(messageID: message.id, kind: .verification), maxMails: 5, window: 3600)
            let results = try await withThrowingTaskGroup(of: VerificationCheck.self) { group in
                for attempt in 0..<10 {
                    let node = attempt.isMultiple(of: 2) ? a : b
                    group.addTask {
                        try await node.checkVerificationCode(
                            grantID: grant, candidateHash: Array(repeating: 1, count: 32), at: Self.now.addingTimeInterval(1),
                            maxFailures: 5, lockFor: 900, rememberFor: 86_400)
                    }
                }
                return try await group.reduce(into: [VerificationCheck]()) { $0.append($1) }
            }
            let invalid = results.compactMap { if case .invalid(let remaining) = $0 { remaining } else { nil } }
            #expect(invalid.sorted() == [1, 2, 3, 4])
            #expect(results.filter { $0 == .locked(until: Self.now.addingTimeInterval(901)) }.count == 6)
        }
    }

    @Test("Summaries count recipients, opens and revocations per message; gateway messages by sender and time")
    func listings() async throws {
        try await SharedPostgresCluster.vault { vault in
            var gateway = VaultFixtures.message(createdAt: Self.now)
            gateway.origin = "gateway"
            let grants = (0..<3).map { NewGrant(grant: VaultFixtures.grant(messageID: gateway.id, recipient: "r\($0)@example.org"), notification: nil) }
            let stored = try await vault.storeSealedMessage(gateway, grants: grants) { _ in }
            var other = VaultFixtures.message(createdAt: Self.now.addingTimeInterval(60))
            other.sender = "carol@example.org"
            try await vault.storeSealedMessage(other, grants: []) { _ in }
            #expect(try await vault.recordOpen(grantID: try #require(stored[0].id), tokenHash: Array(stored[0].tokenHash), maxViews: nil, at: Self.now))
            try await vault.revoke(messageID: gateway.id) { transaction in
                try await transaction.revokeGrant(try #require(stored[1].id), at: Self.now, reason: nil, replacementMessageID: nil)
            }

            let all = try await vault.messageSummaries()
            #expect(all.map(\.message.id) == [other.id, gateway.id])
            #expect(all[1].recipients == 3 && all[1].opened == 1 && all[1].revoked == 1 && all[0].recipients == 0)
            #expect(try await vault.messageSummaries(sender: "ALICE@example.org").map(\.message.id) == [gateway.id])
            #expect(
                try await vault.gatewayMessages(sender: "Alice@Example.org", since: Self.now.addingTimeInterval(-1), before: Self.now)
                    .map(\.id) == [gateway.id])
            #expect(try await vault.gatewayMessages(sender: "carol@example.org", since: .distantPast, before: .distantFuture).isEmpty)
        }
    }
}
