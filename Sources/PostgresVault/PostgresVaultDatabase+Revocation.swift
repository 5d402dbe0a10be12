import Foundation
import Logging
import PostgresNIO
import Vault

extension PostgresVaultDatabase {
    /// Runs a revocation of message `messageID` in one transaction that first locks the
    /// message's row (`SELECT … FOR UPDATE`): a second node revoking the same message waits
    /// for the first to commit and then reads the grants it revoked, so a notice is queued
    /// once however many nodes saw the revoke. Throws `VaultError.messageNotFound` (nothing
    /// written) when there is no such message.
    ///
    /// Once it commits, every node refuses an open that starts afterwards: `recordOpen`
    /// counts an open only by an `UPDATE … WHERE revoked_at IS NULL`.
    public func revoke<T: Sendable>(messageID: String, _ body: (PostgresRevocationTransaction) async throws -> T)
        async throws -> T
    {
        try await transaction("revoking a message") { connection in
            guard
                let row = try await Self.rows(
                    "SELECT * FROM messages WHERE id = \(messageID) FOR UPDATE", on: connection, logger: logger
                ).first
            else { throw VaultError.messageNotFound(messageID) }
            let message = try MessageRecord(postgres: row)
            return try await body(PostgresRevocationTransaction(connection: connection, logger: logger, message: message))
        }
    }

    /// The state a revocation decides on for every grant of a message, in grant order, read
    /// in one snapshot (before the revocation's transaction, to render notices outside it).
    public func revocationSnapshot(messageID: String) async throws -> [RevocationTransaction.GrantState] {
        try await transaction("reading a message's grants") { connection in
            // One snapshot for both queries (REPEATABLE READ, read-only).
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            return try await Self.grantStates(messageID: messageID, on: connection, logger: logger)
        }
    }

    /// The state of every grant of a message, in grant order: one query for the grants, one
    /// for their notifications (should a grant have several, the oldest decides, as on SQLite).
    static func grantStates(messageID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> [RevocationTransaction.GrantState]
    {
        var states: [RevocationTransaction.GrantState] = []
        var index: [Int64: Int] = [:]
        for row in try await rows(
            """
            SELECT id, recipient, kind, notification_message_id, revoked_at, first_opened_at
            FROM grants WHERE message_id = \(messageID) ORDER BY id
            """, on: connection, logger: logger)
        {
            let id: Int64 = try row.value("id")
            index[id] = states.count
            states.append(
                RevocationTransaction.GrantState(
                    grantID: id, recipient: try row.value("recipient"),
                    kind: try row.enumValue("kind", table: "grants", key: String(id)),
                    notificationMessageID: try row.value("notification_message_id"),
                    revokedAt: try row.optionalDate("revoked_at"), firstOpenedAt: try row.optionalDate("first_opened_at"),
                    notification: nil))
        }
        for row in try await rows(
            """
            SELECT grant_id, state FROM outbox
            WHERE message_id = \(messageID) AND kind = 'notification' AND grant_id IS NOT NULL
            ORDER BY created_at DESC, id DESC
            """, on: connection, logger: logger)
        {
            if let id = try? row.value("grant_id", as: Int64.self), let position = index[id] {
                // An unreadable state decides like a missing notification.
                states[position].notification = (try? row.value("state", as: String.self)).flatMap(
                    OutboxMailRecord.State.init(rawValue:))
            }
        }
        return states
    }
}
