import Foundation
import GRDB

extension VaultDatabase {
    /// Queued mails whose time has come, oldest first.
    public func dueMail(now: Date, limit: Int = 100) throws -> [OutboxMailRecord] {
        try reader.read { db in
            try OutboxMailRecord
                .filter(OutboxMailRecord.Columns.state == OutboxMailRecord.State.queued.rawValue)
                .filter(OutboxMailRecord.Columns.notBefore <= now)
                .order(OutboxMailRecord.Columns.notBefore, OutboxMailRecord.Columns.createdAt)
                .limit(limit)
                .fetchAll(db)
        }
    }

    /// Cancels queued notifications whose grant was revoked meanwhile; they must never go out.
    @discardableResult
    public func cancelNotificationsOfRevokedGrants() throws -> Int {
        try writer.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'cancelled', sealed_data = NULL
                    WHERE kind = 'notification' AND state = 'queued'
                    AND grant_id IN (SELECT id FROM grants WHERE revoked_at IS NOT NULL)
                    """)
            return db.changesCount
        }
    }

    /// Whether a mail is still queued and, for a notification, its grant still live: the
    /// last check before the transport is called.
    public func isStillDeliverable(mailID: String) throws -> Bool {
        try reader.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT o.state = 'queued' AND (o.kind != 'notification' OR o.grant_id IS NULL OR g.revoked_at IS NULL)
                    FROM outbox o LEFT JOIN grants g ON g.id = o.grant_id WHERE o.id = ?
                    """,
                arguments: [mailID]) ?? false
        }
    }

    /// The outbox row whose Message-ID header is `rfcMessageID`.
    public func outboxMail(rfcMessageID: String) throws -> OutboxMailRecord? {
        try reader.read { db in
            try OutboxMailRecord.filter(Column("rfc_message_id") == rfcMessageID).fetchOne(db)
        }
    }

    /// Every outbox row of a message.
    public func outboxMail(messageID: String) throws -> [OutboxMailRecord] {
        try reader.read { db in
            try OutboxMailRecord.filter(OutboxMailRecord.Columns.messageId == messageID)
                .order(OutboxMailRecord.Columns.createdAt).fetchAll(db)
        }
    }

    /// Marks a mail delivered and erases its sealed bytes, which held a personal link.
    public func markDelivered(mailID: String, at: Date) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'sent', sent_at = ?, sealed_data = NULL, attempts = attempts + 1,
                    last_error = NULL WHERE id = ?
                    """,
                arguments: [at, mailID])
        }
    }

    /// Records a failed delivery attempt; the mail stays queued until `retryAt`, or fails for
    /// good (bytes erased) when `retryAt` is nil.
    public func markDeliveryFailed(mailID: String, error: String, retryAt: Date?) throws {
        try writer.write { db in
            if let retryAt {
                try db.execute(
                    sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, not_before = ? WHERE id = ?",
                    arguments: [error, retryAt, mailID])
            } else {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, sealed_data = NULL
                        WHERE id = ?
                        """,
                    arguments: [error, mailID])
            }
        }
    }
}
