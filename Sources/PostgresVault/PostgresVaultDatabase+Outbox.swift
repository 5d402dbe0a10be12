import Foundation
import PostgresNIO
import Vault

extension PostgresVaultDatabase {
    /// The outbox's columns, in the order `PostgresBindings.append(outbox:)` binds them.
    static let outboxColumns =
        "id, message_id, grant_id, kind, mail_from, recipient, rfc_message_id, sealed_data, data_kid, state, attempts, "
        + "not_before, created_at, sent_at, last_error, claimed_at, last_reply"

    /// Queues `rows` and stores the manage links' hashes (for `messageID`, at `at`), in one
    /// transaction.
    public func queueMail(_ rows: [OutboxMailRecord], manageLinks: [(hash: Data, messageID: String)] = [], at: Date)
        async throws
    {
        let links = manageLinks.map { ($0.hash, $0.messageID) }
        try await transaction("queueing mail") { connection in
            try await Self.insertOutboxMail(rows, on: connection, logger: logger)
            for (hash, messageID) in links {
                try await Self.insertCapability(hash, purpose: .manage, messageID: messageID, at: at, on: connection, logger: logger)
            }
        }
    }

    /// Claims up to `limit` mails whose time has come, oldest first, so no other pass on any
    /// node delivers them at the same time.
    ///
    /// One statement: the due rows are locked `FOR UPDATE SKIP LOCKED` (rows another node's
    /// claim holds are skipped, not waited for) and set `sending` with `claimed_at = now`.
    /// Notifications whose grant was revoked are never claimed. A row whose values do not
    /// decode is marked `failed` with the reason, in the same transaction, so no pass claims
    /// it again.
    public func claimDueMail(now: Date, limit: Int = 100) async throws -> OutboxClaim {
        let now = now.postgres
        return try await transaction("claiming due mail") { connection in
            let rows = try await Self.rows(
                """
                WITH due AS MATERIALIZED (
                    SELECT o.id FROM outbox o LEFT JOIN grants g ON g.id = o.grant_id
                    WHERE o.state IN ('queued', 'retrying') AND o.not_before <= \(now)
                    AND NOT (o.kind = 'notification' AND g.revoked_at IS NOT NULL)
                    ORDER BY o.not_before, o.created_at LIMIT \(Int64(limit))
                    FOR UPDATE OF o SKIP LOCKED
                )
                UPDATE outbox SET state = 'sending', claimed_at = \(now) FROM due WHERE outbox.id = due.id
                RETURNING outbox.*
                """, on: connection, logger: logger)
            var mails: [OutboxMailRecord] = []
            var unreadable: [String] = []
            for row in rows {
                do {
                    mails.append(try OutboxMailRecord(postgres: row))
                } catch {
                    unreadable.append((try? row.value("id", as: String.self)) ?? "")
                }
            }
            for id in unreadable {
                try await connection.query(
                    """
                    UPDATE outbox SET state = 'failed', claimed_at = NULL,
                    last_error = \(VaultError.unreadableRow(table: "outbox", key: id).description) WHERE id = \(id)
                    """, logger: logger)
            }
            mails.sort { ($0.notBefore, $0.createdAt) < ($1.notBefore, $1.createdAt) }
            return OutboxClaim(mails: mails, considered: rows.count)
        }
    }

    /// Puts mails claimed before `before` back in the queue: their worker (on whichever
    /// node) died before it could say how delivery went. Returns how many.
    @discardableResult
    public func releaseClaims(claimedBefore before: Date) async throws -> Int {
        try await withConnection("releasing stale claims") { connection in
            let rows = try await Self.rows(
                """
                WITH released AS (
                    UPDATE outbox SET state = 'queued', claimed_at = NULL
                    WHERE state = 'sending' AND claimed_at < \(before.postgres) RETURNING 1
                ) SELECT count(*) AS released FROM released
                """, on: connection, logger: logger)
            return Int(try rows.first?.value("released", as: Int64.self) ?? 0)
        }
    }

    /// Every mail not yet delivered or cancelled (queued, sending, retrying, failed), oldest first.
    public func pendingMail() async throws -> [OutboxMailRecord] {
        try await outbox(
            "SELECT * FROM outbox WHERE state IN ('queued', 'sending', 'retrying', 'failed') ORDER BY created_at, id",
            step: "reading pending mail")
    }

    /// Every outbox row of a message, oldest first.
    public func outboxMail(messageID: String) async throws -> [OutboxMailRecord] {
        try await outbox(
            "SELECT * FROM outbox WHERE message_id = \(messageID) ORDER BY created_at, id", step: "reading a message's mail")
    }

    /// The mails that carried the links of a message's grants, by Message-ID header.
    public func linkMail(messageID: String) async throws -> [String: OutboxMailRecord] {
        let rows = try await outbox(
            """
            SELECT * FROM outbox WHERE rfc_message_id IN
            (SELECT notification_message_id FROM grants WHERE message_id = \(messageID)) ORDER BY created_at, id
            """, step: "reading link mail")
        return Dictionary(rows.map { ($0.rfcMessageId, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Marks `delivered` sent (when given) and tells whether `next` may still go out (when
    /// given), in one transaction: a revocation that committed before it is seen on every
    /// node. Returns false when there is no `next`.
    public func markDelivered(_ delivered: String?, at: Date, thenCheck next: String?) async throws -> Bool {
        try await transaction("recording a delivery") { connection in
            if let delivered {
                try await Self.markDelivered(mailID: delivered, at: at, reply: nil, on: connection, logger: logger)
            }
            guard let next else { return false }
            let rows = try await Self.rows(
                """
                SELECT o.state IN ('queued', 'retrying', 'sending')
                AND (o.kind <> 'notification' OR o.grant_id IS NULL OR g.revoked_at IS NULL) AS deliverable
                FROM outbox o LEFT JOIN grants g ON g.id = o.grant_id WHERE o.id = \(next)
                """, on: connection, logger: logger)
            return try rows.first?.value("deliverable", as: Bool.self) ?? false
        }
    }

    /// Marks a mail delivered and erases its sealed bytes, which held a personal link.
    public func markDelivered(mailID: String, at: Date, reply: String? = nil) async throws {
        try await withConnection("recording a delivery") { connection in
            try await Self.markDelivered(mailID: mailID, at: at, reply: reply, on: connection, logger: logger)
        }
    }

    private static func markDelivered(
        mailID: String, at: Date, reply: String?, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            UPDATE outbox SET state = 'sent', sent_at = \(at.postgres), sealed_data = NULL, attempts = attempts + 1,
            last_error = NULL, last_reply = \(reply), claimed_at = NULL WHERE id = \(mailID)
            """, logger: logger)
    }

    /// Records a failed delivery attempt: the mail is `retrying` until `retryAt`, or fails
    /// for good (bytes erased) when `retryAt` is nil.
    public func markDeliveryFailed(mailID: String, error: String, reply: String? = nil, retryAt: Date?) async throws {
        try await withConnection("recording a failed delivery") { connection in
            if let retryAt {
                try await connection.query(
                    """
                    UPDATE outbox SET state = 'retrying', attempts = attempts + 1, last_error = \(error),
                    last_reply = \(reply), not_before = \(retryAt.postgres), claimed_at = NULL WHERE id = \(mailID)
                    """, logger: logger)
            } else {
                try await connection.query(
                    """
                    UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = \(error),
                    last_reply = \(reply), sealed_data = NULL, claimed_at = NULL WHERE id = \(mailID)
                    """, logger: logger)
            }
        }
    }

    /// Cancels one queued mail that must not go out (its grant was revoked meanwhile).
    public func cancelMail(mailID: String) async throws {
        try await withConnection("cancelling mail") { connection in
            try await connection.query(
                "UPDATE outbox SET state = 'cancelled', sealed_data = NULL, claimed_at = NULL WHERE id = \(mailID)",
                logger: logger)
        }
    }

    // MARK: Helpers

    private func outbox(_ query: PostgresQuery, step: String) async throws -> [OutboxMailRecord] {
        try await withConnection(step) { connection in
            try await Self.rows(query, on: connection, logger: logger).map { try OutboxMailRecord(postgres: $0) }
        }
    }

    /// Inserts outbox rows in multi-row INSERTs (a few hundred rows a statement).
    static func insertOutboxMail(_ mails: [OutboxMailRecord], on connection: PostgresConnection, logger: Logger)
        async throws
    {
        try await insertRows(
            mails, columns: 17, into: "outbox (\(outboxColumns))", on: connection, logger: logger
        ) { binds, mail in try binds.append(outbox: mail) }
    }

    /// Inserts one capability's hash for a message.
    static func insertCapability(
        _ hash: Data, purpose: MessageCapability, messageID: String, at: Date, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO manage_links (id_hash, message_id, purpose, created_at)
            VALUES (\(hash), \(messageID), \(purpose.rawValue), \(at.postgres))
            """, logger: logger)
    }

    /// Inserts `items` into `table` (with its column list) in multi-row INSERTs of at most
    /// 500 rows (and PostgreSQL's 65,535 binds); `returning` (say `RETURNING id`) is
    /// appended to each, and the rows it returns are collected in order of the statements.
    @discardableResult
    static func insertRows<Item>(
        _ items: [Item], columns: Int, into table: String, returning: String = "", on connection: PostgresConnection,
        logger: Logger, bind: (inout PostgresBindings, Item) throws -> Void
    ) async throws -> [PostgresRandomAccessRow] {
        guard !items.isEmpty else { return [] }
        let batch = max(1, min(500, 65_535 / columns))
        var returned: [PostgresRandomAccessRow] = []
        var start = 0
        while start < items.count {
            let slice = items[start..<min(items.count, start + batch)]
            var binds = PostgresBindings(capacity: slice.count * columns)
            var sql = "INSERT INTO \(table) VALUES "
            for (row, item) in slice.enumerated() {
                try bind(&binds, item)
                sql += row == 0 ? "(" : ", ("
                sql += (1...columns).map { "$\(row * columns + $0)" }.joined(separator: ", ")
                sql += ")"
            }
            if !returning.isEmpty { sql += " " + returning }
            returned += try await rows(PostgresQuery(unsafeSQL: sql, binds: binds), on: connection, logger: logger)
            start += slice.count
        }
        return returned
    }
}
