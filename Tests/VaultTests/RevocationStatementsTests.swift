import Foundation
import GRDB
import Testing

@testable import Vault

@Suite("Revocation's set-based statements")
struct RevocationStatementsTests {
    static let first = "00112233445566778899aabbccddeeff"
    static let second = "ffeeddccbbaa99887766554433221100"

    func message(_ id: String) -> MessageRecord {
        MessageRecord(
            id: id, sender: "alice@corp.test", senderName: nil, sealedSubject: Data([1, 2, 3]), subjectKid: "k",
            locale: "en", createdAt: Date(), expiresAt: nil, maxViews: nil, deliverAfter: Date(), partCount: 1)
    }

    func grant(_ messageID: String, _ number: UInt8, notification state: OutboxMailRecord.State = .sent) -> NewGrant {
        var mail = OutboxMailRecord(
            id: "\(messageID.prefix(4))-mail-\(number)", messageId: messageID, grantId: nil, kind: .notification,
            mailFrom: "r@x", recipient: "r\(number)@partner.test", rfcMessageId: "<m\(number)@x>", sealedData: Data([7]),
            dataKid: "k", notBefore: Date(), createdAt: Date())
        mail.state = state
        return NewGrant(
            grant: GrantRecord(
                messageId: messageID, tokenHash: Data(repeating: number, count: 32),
                recipient: "r\(number)@partner.test", kind: .to, shareKid: "k", sealedShare: Data([9]),
                wrappedDek: Data([8]), notificationMessageId: "<m\(number)@x>"),
            notification: mail)
    }

    /// A vault with two messages of three grants each; the second grant of each has its
    /// notification still queued. Returns the grant ids per message.
    func twoMessages() throws -> (VaultDatabase, first: [Int64], second: [Int64]) {
        let vault = try VaultDatabase.inMemory()
        var ids: [[Int64]] = []
        for (offset, id) in [Self.first, Self.second].enumerated() {
            let base = UInt8(offset * 10)
            let stored = try vault.storeSealedMessage(
                message(id),
                grants: [grant(id, base + 1), grant(id, base + 2, notification: .queued), grant(id, base + 3)]
            ) { writer in
                try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
                try writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: [1])
                try writer.finishPart(0, chunkCount: 1, plaintextSize: 0)
            }
            ids.append(stored.compactMap(\.id))
        }
        return (vault, ids[0], ids[1])
    }

    @Test("revokeGrants destroys the key material of exactly the named live grants of its own message")
    func revokeGrantsIsExact() throws {
        let (vault, first, second) = try twoMessages()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let revoked = try vault.revoke(messageID: Self.first) { tx in
            // One grant of the other message is named too: it must be left alone.
            try tx.revokeGrants([first[0], first[2], second[0]], at: at, reason: "why", replacementMessageID: nil)
        }
        #expect(revoked == 2)
        let grants = try vault.grants(messageID: Self.first) + vault.grants(messageID: Self.second)
        let live = grants.filter(\.isLive).compactMap(\.id)
        #expect(Set(live) == [first[1], second[0], second[1], second[2]])
        let gone = grants.filter { !$0.isLive }
        #expect(gone.allSatisfy { $0.sealedShare == nil && $0.wrappedDek == nil && $0.revokedAt == at && $0.revokeReason == "why" })
    }

    @Test("revoking a grant again changes nothing and counts nothing")
    func revokeAgain() throws {
        let (vault, first, _) = try twoMessages()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try vault.revoke(messageID: Self.first) { tx in
            try tx.revokeGrants([first[0]], at: at, reason: nil, replacementMessageID: nil)
        }
        let again = try vault.revoke(messageID: Self.first) { tx in
            try tx.revokeGrants([first[0]], at: at.addingTimeInterval(60), reason: "later", replacementMessageID: nil)
        }
        #expect(again == 0)
        let grant = try #require(try vault.grants(messageID: Self.first).first { $0.id == first[0] })
        #expect(grant.revokedAt == at)
        #expect(grant.revokeReason == nil)
    }

    @Test("cancelQueuedNotifications cancels only held notifications of the named grants, and erases their bytes")
    func cancelIsExact() throws {
        let (vault, first, second) = try twoMessages()
        let cancelled = try vault.revoke(messageID: Self.first) { tx in
            try tx.cancelQueuedNotifications(grantIDs: first + [second[1]])
        }
        #expect(cancelled == 1)
        let rows = try vault.outboxMail(messageID: Self.first) + vault.outboxMail(messageID: Self.second)
        let states = Dictionary(uniqueKeysWithValues: rows.map { ($0.grantId!, $0.state) })
        #expect(states[first[1]] == .cancelled)
        #expect(states[second[1]] == .queued)
        #expect(states[first[0]] == .sent)
        #expect(rows.first { $0.grantId == first[1] }?.sealedData == nil)
    }

    @Test("grant states read every grant of the message in order, with its notification's state")
    func grantStates() throws {
        let (vault, first, _) = try twoMessages()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try vault.revoke(messageID: Self.first) { tx in
            try tx.revokeGrants([first[2]], at: at, reason: nil, replacementMessageID: nil)
        }
        let outside = try vault.revocationSnapshot(messageID: Self.first)
        let inside = try vault.revoke(messageID: Self.first) { tx in try tx.grantStates() }
        #expect(outside == inside)
        #expect(inside.map(\.grantID) == first)
        let expected = RevocationTransaction.GrantState(
            grantID: first[0], recipient: "r1@partner.test", kind: .to, notificationMessageID: "<m1@x>", revokedAt: nil,
            firstOpenedAt: nil, notification: .sent)
        #expect(inside.first == expected)
        #expect(inside.map(\.notification) == [.sent, .queued, .sent])
        #expect(inside.map { $0.revokedAt != nil } == [false, false, true])
    }

    @Test("mails queued in bulk read back exactly as queued")
    func bulkQueue() throws {
        let (vault, first, _) = try twoMessages()
        let created = Date(timeIntervalSince1970: 1_800_000_123)
        let mails = (0..<50).map { (index: Int) -> OutboxMailRecord in
            let grantID: Int64? = index == 0 ? nil : first[index % 3]
            return OutboxMailRecord(
                id: "notice-\(index)", messageId: Self.first, grantId: grantID,
                kind: index == 0 ? .report : .withdrawal, mailFrom: "retract@retract.test", recipient: "r\(index)@x",
                rfcMessageId: "<n\(index)@retract.test>", sealedData: Data(repeating: UInt8(index), count: 3400),
                dataKid: "k", notBefore: created, createdAt: created)
        }
        try vault.revoke(messageID: Self.first) { tx in try tx.queue(mails) }
        let stored = try vault.outboxMail(messageID: Self.first).filter { $0.kind != .notification }
        #expect(stored.sorted { $0.id < $1.id } == mails.sorted { $0.id < $1.id })
    }
}
