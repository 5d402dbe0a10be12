import Foundation
import GRDB

extension VaultDatabase {
    /// The state a revocation decides on for every grant of a message, in grant order, read
    /// in one snapshot.
    ///
    /// A revocation reads this before its write transaction, renders and seals the notices
    /// from it outside the write lock, then compares it with `RevocationTransaction.grantStates()`
    /// inside the transaction.
    public func revocationSnapshot(messageID: String) throws -> [RevocationTransaction.GrantState] {
        try reader.read { db in try Self.grantStates(messageID: messageID, in: db) }
    }

    /// The state of every grant of a message, in grant order: one query for the grants, one
    /// for their notification rows, decoded column by column (ten thousand grants decode in
    /// milliseconds this way; as `Codable` records they took most of a second).
    static func grantStates(messageID: String, in db: Database) throws -> [RevocationTransaction.GrantState] {
        var states: [RevocationTransaction.GrantState] = []
        var index: [Int64: Int] = [:]
        let grants = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, recipient, kind, notification_message_id, revoked_at, first_opened_at
                FROM grants WHERE message_id = ? ORDER BY id
                """,
            arguments: [messageID])
        while let row = try grants.next() {
            let state = try UnreadableRows.decode(row, table: "grants") { row in
                RevocationTransaction.GrantState(
                    grantID: try row.decode(atIndex: 0), recipient: try row.decode(atIndex: 1),
                    kind: try UnreadableRows.enumValue(row, atIndex: 2), notificationMessageID: try row.decode(atIndex: 3),
                    revokedAt: try row.decode(atIndex: 4), firstOpenedAt: try row.decode(atIndex: 5), notification: nil)
            }
            index[state.grantID] = states.count
            states.append(state)
        }
        // A grant has one notification; should there be more, the oldest decides, as a
        // revocation has always read it.
        let notifications = try Row.fetchCursor(
            db,
            sql: """
                SELECT grant_id, state FROM outbox
                WHERE message_id = ? AND kind = 'notification' AND grant_id IS NOT NULL ORDER BY rowid DESC
                """,
            arguments: [messageID])
        while let row = try notifications.next() {
            // An unreadable notification state decides like a missing notification.
            let id: Int64? = try? row.decode(atIndex: 0)
            let state: String? = try? row.decode(atIndex: 1)
            if let id, let position = index[id] {
                states[position].notification = state.flatMap(OutboxMailRecord.State.init(rawValue:))
            }
        }
        return states
    }

    /// Inserts outbox rows through one cached statement, binding each row's values
    /// directly rather than encoding a record per row.
    static func insertOutboxMail(_ mails: [OutboxMailRecord], in db: Database) throws {
        guard !mails.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO outbox (id, message_id, grant_id, kind, mail_from, recipient, rfc_message_id, sealed_data,
                data_kid, state, attempts, not_before, created_at, sent_at, last_error, claimed_at, last_reply)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for mail in mails {
            try statement.execute(arguments: [
                mail.id, mail.messageId, mail.grantId, mail.kind.rawValue, mail.mailFrom, mail.recipient,
                mail.rfcMessageId, mail.sealedData, mail.dataKid, mail.state.rawValue, mail.attempts, mail.notBefore,
                mail.createdAt, mail.sentAt, mail.lastError, mail.claimedAt, mail.lastReply,
            ])
        }
    }
}
