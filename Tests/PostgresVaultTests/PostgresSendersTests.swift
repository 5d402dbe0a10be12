import Foundation
import PostgresVault
import Testing
import Vault

/// Sender accounts, web sessions, capabilities, downloads and the access log on PostgreSQL:
/// state every node shares.
@Suite("PostgreSQL vault: senders, sessions, capabilities and downloads", .sharedPostgresCluster)
struct PostgresSendersTests {
    static let now = VaultFixtures.now

    static func hash(_ byte: UInt8) -> Data { Data(repeating: byte, count: 32) }

    @Test("Two nodes adding the same address in different case at once: one account, the other refused")
    func senderAddressIsUniqueWithoutCaseAcrossNodes() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            #expect(try await a.isEmptyOfSendersAndMessages())
            async let first = a.insertSender(SenderRecord(address: "Alice@example.org", name: nil, tokenHash: Self.hash(1), createdAt: Self.now))
            async let second = b.insertSender(SenderRecord(address: "alice@EXAMPLE.org", name: nil, tokenHash: Self.hash(2), createdAt: Self.now))
            let inserted = try await [first, second]
            #expect(inserted.sorted { !$0 && $1 } == [false, true])
            #expect(try await b.senders().count == 1)
            #expect(try await a.sender(address: "ALICE@example.org") != nil)
            #expect(try await a.isEmptyOfSendersAndMessages() == false)
        }
    }

    @Test("A replaced token and a changed password take effect on the other node at once; sessions end with the password")
    func tokenAndPasswordChangesAreShared() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let sender = SenderRecord(address: "bob@example.org", name: "Bob", tokenHash: Self.hash(1), createdAt: Self.now)
            #expect(try await a.insertSender(sender))
            #expect(try await b.sender(tokenHash: Self.hash(1)) == sender)

            #expect(try await a.replaceSenderToken(address: "BOB@example.org", tokenHash: Self.hash(2), at: Self.now.addingTimeInterval(1)))
            #expect(try await b.sender(tokenHash: Self.hash(1)) == nil)
            #expect(try await b.sender(tokenHash: Self.hash(2))?.tokenCreatedAt == Self.now.addingTimeInterval(1))

            let session = WebSessionRecord(idHash: Self.hash(9), sender: sender.address, at: Self.now, locale: "en")
            try await a.insertWebSession(session)
            #expect(try await b.webSession(idHash: Self.hash(9))?.session == session)
            try await b.touchWebSession(idHash: Self.hash(9), at: Self.now.addingTimeInterval(60))
            try await b.setWebSessionLocale(idHash: Self.hash(9), locale: "zh-Hans")
            let touched = try #require(try await a.webSession(idHash: Self.hash(9)))
            #expect(touched.session.lastSeenAt == Self.now.addingTimeInterval(60) && touched.session.locale == "zh-Hans")
            #expect(touched.sender.name == "Bob")

            #expect(try await b.setSenderPassword(address: "bob@example.org", passwordHash: "$argon2id$…", at: Self.now))
            #expect(try await a.webSession(idHash: Self.hash(9)) == nil)
            #expect(try await a.sender(address: "bob@example.org")?.passwordHash == "$argon2id$…")
            #expect(try await a.setSenderPassword(address: "nobody@example.org", passwordHash: "x", at: Self.now) == false)

            try await a.insertWebSession(WebSessionRecord(idHash: Self.hash(7), sender: sender.address, at: Self.now))
            try await a.insertWebSession(WebSessionRecord(idHash: Self.hash(8), sender: sender.address, at: Self.now.addingTimeInterval(100)))
            #expect(try await b.deleteWebSessions(lastSeenBefore: Self.now.addingTimeInterval(50)) == 1)
            try await b.deleteWebSession(idHash: Self.hash(8))
            #expect(try await a.webSession(idHash: Self.hash(8)) == nil)
        }
    }

    @Test("A capability names its message and sender while the message lives and the account exists")
    func capabilitiesFollowMessageAndAccount() async throws {
        try await SharedPostgresCluster.vault { vault in
            let sender = SenderRecord(address: "alice@example.org", name: nil, tokenHash: Self.hash(1), createdAt: Self.now)
            #expect(try await vault.insertSender(sender))
            var message = VaultFixtures.message()
            message.expiresAt = Self.now.addingTimeInterval(3600)
            try await vault.storeSealedMessage(
                message, grants: [], capabilities: [(Self.hash(5), .manage), (Self.hash(6), .reply)]) { _ in }

            let manage = try await vault.manageLink(hash: Self.hash(5), now: Self.now)
            #expect(manage?.messageID == message.id && manage?.sender == sender)
            #expect(try await vault.capability(hash: Self.hash(6), purpose: .reply, now: Self.now)?.messageID == message.id)
            #expect(try await vault.capability(hash: Self.hash(6), purpose: .manage, now: Self.now) == nil)
            #expect(try await vault.manageLink(hash: Self.hash(5), now: Self.now.addingTimeInterval(3600)) == nil)

            // queueMail stores a further manage link with its mail.
            try await vault.queueMail(
                [VaultFixtures.mail(messageID: message.id, kind: .receipt)], manageLinks: [(Self.hash(4), message.id)],
                at: Self.now)
            #expect(try await vault.manageLink(hash: Self.hash(4), now: Self.now)?.messageID == message.id)

            #expect(try await vault.deleteSender(address: "ALICE@example.org"))
            #expect(try await vault.manageLink(hash: Self.hash(5), now: Self.now) == nil)
            #expect(try await vault.deleteSender(address: "alice@example.org") == false)
        }
    }

    @Test("A download counts a view, belongs to a recent one, and is refused once another node revoked the grant")
    func downloadsCountAndStopAtRevocation() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let message = VaultFixtures.message()
            let grant = VaultFixtures.grant(messageID: message.id, recipient: "bob@example.org")
            let id = try #require(try await a.storeSealedMessage(message, grants: [NewGrant(grant: grant, notification: nil)]) { _ in }.first?.id)
            let token = Array(grant.tokenHash)

            #expect(try await b.recordDownload(grantID: id, tokenHash: token, maxViews: 1, at: Self.now, readingSince: Self.now.addingTimeInterval(-600)) == .counted)
            #expect(
                try await a.recordDownload(
                    grantID: id, tokenHash: token, maxViews: 1, at: Self.now.addingTimeInterval(60), readingSince: Self.now.addingTimeInterval(-540))
                    == .partOfView)
            #expect(
                try await a.recordDownload(
                    grantID: id, tokenHash: token, maxViews: 1, at: Self.now.addingTimeInterval(900), readingSince: Self.now.addingTimeInterval(300))
                    == .refused)
            #expect(try await b.revocation(grantID: id) == nil)

            try await a.revoke(messageID: message.id) { transaction in
                try await transaction.revokeGrant(id, at: Self.now, reason: "oops", replacementMessageID: nil)
            }
            #expect(
                try await b.recordDownload(
                    grantID: id, tokenHash: token, maxViews: nil, at: Self.now.addingTimeInterval(61), readingSince: Self.now.addingTimeInterval(-600))
                    == .refused)
            let revocation = try #require(try await b.revocation(grantID: id))
            #expect(revocation.at == Self.now && revocation.reason == "oops" && !revocation.replaced)
            #expect(try await a.accessEvents(messageID: message.id).map(\.result) == [.attachment, .attachment])
        }
    }

    @Test("Pruning removes old failures in batches and keeps opens; hasAccessEvent sees what is on record")
    func accessLogPruning() async throws {
        try await SharedPostgresCluster.vault { vault in
            let message = VaultFixtures.message()
            let grant = VaultFixtures.grant(messageID: message.id, recipient: "bob@example.org")
            let id = try #require(try await vault.storeSealedMessage(message, grants: [NewGrant(grant: grant, notification: nil)]) { _ in }.first?.id)
            let token = Array(grant.tokenHash)
            for second in 0..<7 {
                try await vault.recordAccess(grantID: id, tokenHash: token, at: Self.now.addingTimeInterval(Double(second)), result: .invalidKey)
            }
            #expect(try await vault.recordOpen(grantID: id, tokenHash: token, maxViews: nil, at: Self.now))
            #expect(try await vault.hasAccessEvent(tokenHash: token, result: .invalidKey, since: Self.now.addingTimeInterval(6)))
            #expect(try await vault.hasAccessEvent(tokenHash: token, result: .revoked, since: .distantPast) == false)

            #expect(try await vault.pruneAccessLog(failuresBefore: Self.now.addingTimeInterval(5), batch: 2) == 5)
            #expect(try await vault.accessEvents(messageID: message.id).map(\.result) == [.opened, .invalidKey, .invalidKey])
        }
    }
}
