import Foundation
import Vault

/// Records for the PostgreSQL vault's tests: a message, its grants and mails, with times at
/// whole milliseconds so they compare equal after a round trip.
enum VaultFixtures {
    /// 2026-12-03 12:00:00 UTC.
    static let now = Date(timeIntervalSince1970: 1_796_299_200)

    static func messageID() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    static func message(id: String = messageID(), partCount: Int = 1, createdAt: Date = now) -> MessageRecord {
        MessageRecord(
            id: id, sender: "alice@example.org", senderName: "Alice", sealedSubject: Data([1, 2, 3]), subjectKid: "k1",
            locale: "en", createdAt: createdAt, expiresAt: nil, maxViews: nil, deliverAfter: createdAt,
            partCount: partCount)
    }

    static func grant(messageID: String, recipient: String) -> GrantRecord {
        GrantRecord(
            messageId: messageID, tokenHash: Data((0..<32).map { _ in UInt8.random(in: 0...255) }), recipient: recipient,
            kind: .to, shareKid: "k1", sealedShare: Data([9, 9]), wrappedDek: Data([8, 8]),
            notificationMessageId: "<\(UUID().uuidString)@example.org>")
    }

    static func mail(
        messageID: String, kind: OutboxMailRecord.Kind = .notification, grantID: Int64? = nil, recipient: String = "bob@example.org",
        notBefore: Date = now, createdAt: Date = now, rfcMessageID: String? = nil
    ) -> OutboxMailRecord {
        OutboxMailRecord(
            id: UUID().uuidString.lowercased(), messageId: messageID, grantId: grantID, kind: kind,
            mailFrom: "retract@example.org", recipient: recipient,
            rfcMessageId: rfcMessageID ?? "<\(UUID().uuidString)@example.org>", sealedData: Data("sealed".utf8),
            dataKid: "k1", notBefore: notBefore, createdAt: createdAt)
    }
}
