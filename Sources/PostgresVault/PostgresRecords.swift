import Foundation
import PostgresNIO
import Vault

// The Vault module's plain record types, read from PostgreSQL rows column by column (by
// name, so `SELECT *` and a column list both work), times at millisecond precision.

extension PostgresRandomAccessRow {
    /// A column's value.
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    /// A `timestamptz` column.
    func date(_ column: String) throws -> Date {
        try self[column].decode(PostgresTimestamp.self).date
    }

    /// A nullable `timestamptz` column.
    func optionalDate(_ column: String) throws -> Date? {
        try self[column].decode(PostgresTimestamp?.self)?.date
    }

    /// A text column holding one of an enumeration's raw values; another value throws
    /// `unreadableRow` (table `table`, row `key`).
    func enumValue<T: RawRepresentable>(_ column: String, table: String, key: String) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: try self[column].decode(String.self)) else {
            throw VaultError.unreadableRow(table: table, key: key)
        }
        return value
    }
}

extension MessageRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        let id: String = try row.value("id")
        self.init(
            id: id, sender: try row.value("sender"), senderName: try row.value("sender_name"),
            sealedSubject: try row.value("sealed_subject"), subjectKid: try row.value("subject_kid"),
            locale: try row.value("locale"), createdAt: try row.date("created_at"),
            expiresAt: try row.optionalDate("expires_at"), maxViews: try row.value("max_views", as: Int?.self),
            deliverAfter: try row.date("deliver_after"), partCount: try row.value("part_count"),
            supersedes: try row.value("supersedes"), verify: try row.value("verify"), origin: try row.value("origin"))
    }
}

extension GrantRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        let id: Int64 = try row.value("id")
        self.init(
            messageId: try row.value("message_id"), tokenHash: try row.value("token_hash"),
            recipient: try row.value("recipient"),
            kind: try row.enumValue("kind", table: "grants", key: String(id)),
            shareKid: "", sealedShare: Data(), wrappedDek: Data(),
            notificationMessageId: try row.value("notification_message_id"))
        self.id = id
        self.shareKid = try row.value("share_kid")
        self.sealedShare = try row.value("sealed_share")
        self.wrappedDek = try row.value("wrapped_dek")
        self.views = try row.value("views")
        self.firstOpenedAt = try row.optionalDate("first_opened_at")
        self.lastOpenedAt = try row.optionalDate("last_opened_at")
        self.revokedAt = try row.optionalDate("revoked_at")
        self.revokeReason = try row.value("revoke_reason")
        self.replacementMessageId = try row.value("replacement_message_id")
    }
}

extension OutboxMailRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        let id: String = try row.value("id")
        self.init(
            id: id, messageId: try row.value("message_id"), grantId: try row.value("grant_id"),
            kind: try row.enumValue("kind", table: "outbox", key: id), mailFrom: try row.value("mail_from"),
            recipient: try row.value("recipient"), rfcMessageId: try row.value("rfc_message_id"),
            sealedData: Data(), dataKid: try row.value("data_kid"), notBefore: try row.date("not_before"),
            createdAt: try row.date("created_at"))
        self.sealedData = try row.value("sealed_data")
        self.state = try row.enumValue("state", table: "outbox", key: id)
        self.attempts = try row.value("attempts")
        self.sentAt = try row.optionalDate("sent_at")
        self.lastError = try row.value("last_error")
        self.claimedAt = try row.optionalDate("claimed_at")
        self.lastReply = try row.value("last_reply")
    }
}

extension SealedPartRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        self.init(
            messageId: try row.value("message_id"), partIndex: try row.value("part_index"),
            header: try row.value("header"), chunkCount: try row.value("chunk_count"),
            plaintextSize: try row.value("plaintext_size"), inlineData: try row.value("inline_data"))
    }
}

extension AccessEventRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        let id: Int64 = try row.value("id")
        self.init(
            grantId: try row.value("grant_id"), tokenHash: try row.value("token_hash"), at: try row.date("at"),
            result: try row.enumValue("result", table: "access_events", key: String(id)))
        self.id = id
    }
}

extension PostgresBindings {
    /// Appends an outbox row's seventeen columns, in `PostgresVaultDatabase.outboxColumns` order.
    mutating func append(outbox mail: OutboxMailRecord) throws {
        append(mail.id)
        append(mail.messageId)
        append(mail.grantId)
        append(mail.kind.rawValue)
        append(mail.mailFrom)
        append(mail.recipient)
        append(mail.rfcMessageId)
        try append(mail.sealedData)
        append(mail.dataKid)
        append(mail.state.rawValue)
        append(Int64(mail.attempts))
        append(mail.notBefore.postgres)
        append(mail.createdAt.postgres)
        append(mail.sentAt?.postgres)
        append(mail.lastError)
        append(mail.claimedAt?.postgres)
        append(mail.lastReply)
    }
}

extension SenderRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        self.init(
            address: try row.value("address"), name: try row.value("name"), tokenHash: try row.value("token_hash"),
            createdAt: try row.date("created_at"))
        self.passwordHash = try row.value("password_hash")
        self.tokenCreatedAt = try row.date("token_created_at")
        self.passwordSetAt = try row.optionalDate("password_set_at")
    }
}

extension WebSessionRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        self.init(
            idHash: try row.value("id_hash"), sender: try row.value("sender"), at: try row.date("created_at"),
            locale: try row.value("locale"), messageScope: try row.value("message_scope"))
        self.lastSeenAt = try row.date("last_seen_at")
    }
}

extension VerificationCodeRecord {
    init(postgres row: PostgresRandomAccessRow) throws {
        self.init(
            grantId: try row.value("grant_id"), codeHash: try row.value("code_hash"),
            issuedAt: try row.optionalDate("issued_at"), expiresAt: try row.optionalDate("expires_at"),
            failedCount: try row.value("failed_count"), lockedUntil: try row.optionalDate("locked_until"),
            verifiedUntil: try row.optionalDate("verified_until"))
    }
}
