import Foundation
import PostgresVault
import Testing
import Vault

/// The outbox on PostgreSQL: claims with `FOR UPDATE SKIP LOCKED`, so the workers of
/// several nodes deliver each mail once.
@Suite("PostgreSQL vault: the outbox across nodes", .sharedPostgresCluster)
struct PostgresOutboxTests {
    static let now = VaultFixtures.now

    /// A message with `grants` recipients (no parts) and nothing queued.
    static func storeMessage(
        _ vault: PostgresVaultDatabase, grants: Int = 0, notifications: Bool = false
    ) async throws -> (MessageRecord, [GrantRecord]) {
        let message = VaultFixtures.message()
        let pairs = (0..<grants).map { index in
            let grant = VaultFixtures.grant(messageID: message.id, recipient: "r\(index)@example.org")
            return NewGrant(
                grant: grant,
                notification: notifications
                    ? VaultFixtures.mail(
                        messageID: message.id, recipient: grant.recipient, rfcMessageID: grant.notificationMessageId)
                    : nil)
        }
        let stored = try await vault.storeSealedMessage(message, grants: pairs) { _ in }
        return (message, stored)
    }

    @Test("A claim takes due mail oldest first and marks it sending; later mail and delivered mail stay out")
    func claimTakesDueMailOldestFirst() async throws {
        try await SharedPostgresCluster.vault { vault in
            let (message, _) = try await Self.storeMessage(vault)
            let older = VaultFixtures.mail(messageID: message.id, kind: .report, notBefore: Self.now.addingTimeInterval(-60))
            let due = VaultFixtures.mail(messageID: message.id, kind: .report, notBefore: Self.now)
            let later = VaultFixtures.mail(messageID: message.id, kind: .report, notBefore: Self.now.addingTimeInterval(60))
            try await vault.queueMail([due, later, older], at: Self.now)

            let claim = try await vault.claimDueMail(now: Self.now, limit: 10)
            #expect(claim.mails.map(\.id) == [older.id, due.id])
            #expect(claim.considered == 2)
            #expect(claim.mails.allSatisfy { $0.state == .sending && $0.claimedAt == Self.now })
            #expect(try await vault.claimDueMail(now: Self.now, limit: 10).mails.isEmpty)

            // Delivered: sent, bytes erased; failed with a retry: back at its time.
            try await vault.markDelivered(mailID: older.id, at: Self.now, reply: "250 ok")
            try await vault.markDeliveryFailed(mailID: due.id, error: "421 busy", retryAt: Self.now.addingTimeInterval(30))
            let rows = Dictionary(uniqueKeysWithValues: try await vault.outboxMail(messageID: message.id).map { ($0.id, $0) })
            #expect(rows[older.id]?.state == .sent && rows[older.id]?.sealedData == nil && rows[older.id]?.lastReply == "250 ok")
            #expect(rows[older.id]?.attempts == 1 && rows[older.id]?.sentAt == Self.now)
            #expect(rows[due.id]?.state == .retrying && rows[due.id]?.notBefore == Self.now.addingTimeInterval(30))
            #expect(rows[due.id]?.lastError == "421 busy" && rows[due.id]?.sealedData != nil)
            let retried = try await vault.claimDueMail(now: Self.now.addingTimeInterval(60), limit: 10)
            #expect(retried.mails.map(\.id).sorted() == [due.id, later.id].sorted())

            // Failed for good: bytes erased, still pending (for `retract outbox`).
            try await vault.markDeliveryFailed(mailID: due.id, error: "550 no such user", retryAt: nil)
            try await vault.cancelMail(mailID: later.id)
            let pending = try await vault.pendingMail()
            #expect(pending.map(\.id) == [due.id])
            #expect(pending.first?.state == .failed && pending.first?.sealedData == nil)
        }
    }

    @Test("A notification whose grant was revoked is never claimed, and the delivery gate says so")
    func revokedNotificationIsNotClaimed() async throws {
        try await SharedPostgresCluster.vault { vault in
            let (message, grants) = try await Self.storeMessage(vault, grants: 2, notifications: true)
            let mails = try await vault.outboxMail(messageID: message.id)
            #expect(mails.count == 2 && Set(mails.compactMap(\.grantId)) == Set(grants.compactMap(\.id)))
            let revoked = try #require(grants.first?.id)
            try await vault.revoke(messageID: message.id) { transaction in
                try await transaction.revokeGrant(revoked, at: Self.now, reason: nil, replacementMessageID: nil)
            }
            let revokedMail = try #require(mails.first { $0.grantId == revoked })
            #expect(try await vault.markDelivered(nil, at: Self.now, thenCheck: revokedMail.id) == false)

            let claim = try await vault.claimDueMail(now: Self.now, limit: 10)
            #expect(claim.mails.map(\.grantId) == [grants[1].id])
            #expect(try await vault.markDelivered(claim.mails[0].id, at: Self.now, thenCheck: claim.mails[0].id) == false)
            #expect(try await vault.markDelivered(nil, at: Self.now, thenCheck: nil) == false)
        }
    }

    @Test("Claims older than the cut-off go back to the queue (their worker died), newer ones stay")
    func staleClaimsAreReleased() async throws {
        try await SharedPostgresCluster.vault { vault in
            let (message, _) = try await Self.storeMessage(vault)
            let first = VaultFixtures.mail(messageID: message.id, kind: .report)
            let second = VaultFixtures.mail(messageID: message.id, kind: .report, notBefore: Self.now.addingTimeInterval(5))
            try await vault.queueMail([first, second], at: Self.now)
            _ = try await vault.claimDueMail(now: Self.now, limit: 1)
            _ = try await vault.claimDueMail(now: Self.now.addingTimeInterval(10), limit: 1)

            #expect(try await vault.releaseClaims(claimedBefore: Self.now.addingTimeInterval(5)) == 1)
            let rows = Dictionary(uniqueKeysWithValues: try await vault.pendingMail().map { ($0.id, $0.state) })
            #expect(rows == [first.id: .queued, second.id: .sending])
        }
    }

    @Test("Two nodes racing over 2,000 queued mails claim every one exactly once")
    func twoNodesClaimEachMailOnce() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let (message, _) = try await Self.storeMessage(a)
            let mails = (0..<2_000).map { index in
                VaultFixtures.mail(
                    messageID: message.id, kind: .report, recipient: "r\(index)@example.org",
                    notBefore: Self.now.addingTimeInterval(-Double(index % 97)))
            }
            try await a.queueMail(mails, at: Self.now)

            // Each node runs two workers, as a node's outbox worker and a manual `deliver`
            // might; each claims small batches until a claim finds nothing due.
            @Sendable func worker(_ vault: PostgresVaultDatabase) async throws -> [String] {
                var claimed: [String] = []
                while true {
                    let claim = try await vault.claimDueMail(now: Self.now, limit: 25)
                    if claim.considered == 0 { return claimed }
                    claimed += claim.mails.map(\.id)
                    for mail in claim.mails { try await vault.markDelivered(mailID: mail.id, at: Self.now) }
                }
            }
            async let fromA1 = worker(a)
            async let fromA2 = worker(a)
            async let fromB1 = worker(b)
            async let fromB2 = worker(b)
            let claims = try await [fromA1, fromA2, fromB1, fromB2]
            let all = claims.flatMap { $0 }

            #expect(all.count == 2_000)
            #expect(Set(all) == Set(mails.map(\.id)))
            #expect(try await b.pendingMail().isEmpty)
            let sent = try await a.outboxMail(messageID: message.id)
            #expect(sent.count == 2_000 && sent.allSatisfy { $0.state == .sent && $0.attempts == 1 })
        }
    }
}
