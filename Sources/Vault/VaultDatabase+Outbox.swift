import Foundation
import GRDB

extension VaultDatabase {
    /// Claims up to `limit` mails whose time has come, oldest first, so no other pass
    /// delivers them at the same time.
    ///
    /// Notifications whose grant was revoked are never claimed. A claimed mail is `sending`
    /// until it is marked sent or failed; `releaseClaims` puts claims of a dead process
    /// back in the queue.
    ///
    /// Committed through `writeDeliveryRecord`, which leaves checkpoints to the worker.
    public func claimDueMail(now: Date, limit: Int = 100) throws -> OutboxClaim {
        // Read (and decode) the candidates outside the write lock, which the worker's per-mail
        // commits need; then claim them in a short write transaction that skips any row
        // another pass claimed, or a revoke cancelled, in between.
        let rows = try reader.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT o.* FROM outbox o LEFT JOIN grants g ON g.id = o.grant_id
                        WHERE o.state IN ('queued', 'retrying') AND o.not_before <= ?
                        AND NOT (o.kind = 'notification' AND g.revoked_at IS NOT NULL)
                        ORDER BY o.not_before, o.created_at LIMIT ?
                        """),
                arguments: [now, limit])
        }
        // A row that does not decode is reported once and marked failed, so no pass claims
        // it again and the rest of the queue goes on (`retract outbox` shows it).
        let (candidates, unreadable) = UnreadableRows.decodeEach(rows, table: "outbox") { try OutboxMailRecord(row: $0) }
        if !unreadable.isEmpty { try markUnreadableMailFailed(unreadable) }
        guard !candidates.isEmpty else { return OutboxClaim(mails: [], considered: unreadable.count) }
        let claimed = try writeDeliveryRecord { db in
            let claim = try db.cachedStatement(
                sql: """
                    UPDATE outbox SET state = 'sending', claimed_at = ?
                    WHERE id = ? AND state IN ('queued', 'retrying') AND not_before <= ?
                    AND NOT (kind = 'notification' AND EXISTS
                        (SELECT 1 FROM grants g WHERE g.id = outbox.grant_id AND g.revoked_at IS NOT NULL))
                    """)
            let at = now.databaseValue  // formatted once, not twice per row
            return try candidates.filter { mail in
                try claim.execute(arguments: [at, mail.id, at])
                return db.changesCount == 1
            }
        }
        return OutboxClaim(mails: claimed, considered: candidates.count)
    }

    /// Takes mails whose rows do not decode out of the queue: state `failed`, with the
    /// reason in `last_error`.
    private func markUnreadableMailFailed(_ ids: [String]) throws {
        try writer.write { db in
            for id in ids {
                try db.execute(
                    sql: "UPDATE outbox SET state = 'failed', claimed_at = NULL, last_error = ? WHERE id = ?",
                    arguments: [VaultError.unreadableRow(table: "outbox", key: id).description, id])
            }
        }
    }

    /// Runs `work` in one write transaction that does not checkpoint the WAL, for the outbox
    /// worker's bookkeeping of claims and deliveries.
    ///
    /// An automatic checkpoint would run inside the commit that crosses SQLite's threshold
    /// (every ~250 delivered mails here): copying a thousand pages and two fsyncs, 3–5 ms,
    /// on the SMTP connection's thread while the server waits for the client. The worker
    /// checkpoints aside instead, between batches (`checkpointAside()`). Durability is the
    /// vault's own (WAL, `synchronous = NORMAL`; see docs/threat-model.md).
    private func writeDeliveryRecord<T>(_ work: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            try db.cachedStatement(sql: "PRAGMA wal_autocheckpoint = 0").execute()
            defer {
                try? db.cachedStatement(sql: "PRAGMA wal_autocheckpoint = \(Self.walAutocheckpointPages)").execute()
            }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try work(db)
                return .commit
            }
            return result!
        }
    }

    /// Puts mails claimed before `before` back in the queue: their worker died before it
    /// could say how delivery went. At-least-once: such a mail may be delivered twice.
    @discardableResult
    public func releaseClaims(claimedBefore before: Date) throws -> Int {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE outbox SET state = 'queued', claimed_at = NULL WHERE state = 'sending' AND claimed_at < ?",
                arguments: [before])
            return db.changesCount
        }
    }

    /// Every mail not yet delivered or cancelled (queued, sending, retrying, failed), oldest first.
    public func pendingMail() throws -> [OutboxMailRecord] {
        try reader.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox WHERE state IN ('queued', 'sending', 'retrying', 'failed')
                    ORDER BY created_at
                    """)
            return UnreadableRows.decodeEach(rows, table: "outbox") { try OutboxMailRecord(row: $0) }.values
        }
    }

    /// Marks `delivered` sent (when given) and tells whether `next` may still go out (when
    /// given), in one write transaction.
    ///
    /// The outbox worker's per-mail step: the commit that records the mail the server just
    /// accepted also answers the check of the mail after it, so the worker pays one durable
    /// commit per mail and no separate read, and can run it while the server reads the next
    /// mail's envelope. Synchronous on purpose: the worker calls it on the SMTP connection's
    /// own thread, where a hop to another thread and back would cost more than the commit.
    /// Being a write transaction, the check is ordered against every revocation:
    /// a revoke that committed before it is seen; one that commits after it comes after the
    /// notification left, like a revoke of a mail already delivered. Returns false when there
    /// is no `next`.
    ///
    /// Committed through `writeDeliveryRecord`, which leaves checkpoints to the worker.
    public func markDelivered(_ delivered: String?, at: Date, thenCheck next: String?) throws -> Bool {
        try writeDeliveryRecord { db in
            if let delivered {
                try Self.markDelivered(mailID: delivered, at: at, reply: nil, db)
            }
            guard let next else { return false }
            return try Self.isStillDeliverable(mailID: next, db)
        }
    }

    /// Cached statement (compiled once per connection): it runs once per delivered mail.
    private static func isStillDeliverable(mailID: String, _ db: Database) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: """
                SELECT o.state IN ('queued', 'retrying', 'sending') AND (o.kind != 'notification' OR o.grant_id IS NULL OR g.revoked_at IS NULL)
                FROM outbox o LEFT JOIN grants g ON g.id = o.grant_id WHERE o.id = ?
                """)
        return try Bool.fetchOne(statement, arguments: [mailID]) ?? false
    }

    /// The mails that carried the links of a message's grants (the notification, or for a
    /// replacement the correction notice that delivered its link), by Message-ID header, in
    /// one query.
    public func linkMail(messageID: String) throws -> [String: OutboxMailRecord] {
        try reader.read { db in
            let rows = UnreadableRows.decodeEach(
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM outbox WHERE rfc_message_id IN
                        (SELECT notification_message_id FROM grants WHERE message_id = ?)
                        """,
                    arguments: [messageID]),
                table: "outbox"
            ) { try OutboxMailRecord(row: $0) }.values
            return Dictionary(rows.map { ($0.rfcMessageId, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Every outbox row of a message.
    public func outboxMail(messageID: String) throws -> [OutboxMailRecord] {
        try reader.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE message_id = ? ORDER BY created_at", arguments: [messageID])
            return UnreadableRows.decodeEach(rows, table: "outbox") { try OutboxMailRecord(row: $0) }.values
        }
    }

    /// Marks a mail delivered and erases its sealed bytes, which held a personal link.
    public func markDelivered(mailID: String, at: Date, reply: String? = nil) throws {
        try writer.write { db in try Self.markDelivered(mailID: mailID, at: at, reply: reply, db) }
    }

    /// Cached statement (compiled once per connection): it runs once per delivered mail.
    private static func markDelivered(mailID: String, at: Date, reply: String?, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE outbox SET state = 'sent', sent_at = ?, sealed_data = NULL, attempts = attempts + 1,
                last_error = NULL, last_reply = ?, claimed_at = NULL WHERE id = ?
                """
        ).execute(arguments: [at, reply, mailID])
    }

    /// Records a failed delivery attempt: the mail is `retrying` until `retryAt`, or fails
    /// for good (bytes erased) when `retryAt` is nil.
    public func markDeliveryFailed(mailID: String, error: String, reply: String? = nil, retryAt: Date?) throws {
        try writer.write { db in
            if let retryAt {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'retrying', attempts = attempts + 1, last_error = ?, last_reply = ?,
                        not_before = ?, claimed_at = NULL WHERE id = ?
                        """,
                    arguments: [error, reply, retryAt, mailID])
            } else {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, last_reply = ?,
                        sealed_data = NULL, claimed_at = NULL WHERE id = ?
                        """,
                    arguments: [error, reply, mailID])
            }
        }
    }

    /// Cancels one queued mail that must not go out (its grant was revoked meanwhile).
    public func cancelMail(mailID: String) throws {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE outbox SET state = 'cancelled', sealed_data = NULL, claimed_at = NULL WHERE id = ?",
                arguments: [mailID])
        }
    }
}
