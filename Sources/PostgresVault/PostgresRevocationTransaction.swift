import Foundation
import Logging
import NIOCore
import PostgresNIO
import Vault

/// The writes a revocation may make on PostgreSQL, all inside one transaction that holds
/// the message's row lock (`SELECT … FOR UPDATE`), so revocations of one message on any
/// number of nodes run one after another and each sees what the one before it committed.
///
/// The PostgreSQL counterpart of `RevocationTransaction`: the same methods, `async`.
/// Handed to the closure of `PostgresVaultDatabase.revoke(messageID:_:)`; it must not be
/// kept beyond that closure (its connection goes back to the pool when the closure returns).
public final class PostgresRevocationTransaction {
    private let connection: PostgresConnection
    private let logger: Logger
    /// The message being revoked, as it is inside this transaction.
    public let message: MessageRecord

    init(connection: PostgresConnection, logger: Logger, message: MessageRecord) {
        self.connection = connection
        self.logger = logger
        self.message = message
    }

    /// The message's grants as they are inside this transaction.
    public func grants() async throws -> [GrantRecord] {
        try await PostgresVaultDatabase.rows(
            "SELECT * FROM grants WHERE message_id = \(message.id) ORDER BY id", on: connection, logger: logger
        ).map { try GrantRecord(postgres: $0) }
    }

    /// The state of every grant of the message inside this transaction, in grant order: two
    /// queries (the grants, the notification rows), whatever the number of recipients.
    public func grantStates() async throws -> [RevocationTransaction.GrantState] {
        try await PostgresVaultDatabase.grantStates(messageID: message.id, on: connection, logger: logger)
    }

    /// The recipient's notification row, if any.
    public func notification(grantID: Int64) async throws -> OutboxMailRecord? {
        try await PostgresVaultDatabase.rows(
            """
            SELECT * FROM outbox WHERE grant_id = \(grantID) AND kind = 'notification' ORDER BY created_at, id LIMIT 1
            """, on: connection, logger: logger
        ).first.map { try OutboxMailRecord(postgres: $0) }
    }

    /// Destroys the grant's key material and records when and why.
    public func revokeGrant(_ grantID: Int64, at: Date, reason: String?, replacementMessageID: String?) async throws {
        try await revokeGrants([grantID], at: at, reason: reason, replacementMessageID: replacementMessageID)
    }

    /// Destroys the key material of the message's live grants among `grantIDs` and records
    /// when and why, in one statement; returns how many it revoked.
    @discardableResult
    public func revokeGrants(_ grantIDs: [Int64], at: Date, reason: String?, replacementMessageID: String?) async throws
        -> Int
    {
        guard !grantIDs.isEmpty else { return 0 }
        return try await count(
            """
            UPDATE grants SET sealed_share = NULL, wrapped_dek = NULL, revoked_at = \(at.postgres),
            revoke_reason = \(reason), replacement_message_id = \(replacementMessageID)
            WHERE message_id = \(message.id) AND revoked_at IS NULL AND id = ANY(\(grantIDs))
            RETURNING 1
            """)
    }

    /// Cancels a notification still held in the outbox; returns whether one was cancelled.
    public func cancelQueuedNotification(grantID: Int64) async throws -> Bool {
        try await cancelQueuedNotifications(grantIDs: [grantID]) > 0
    }

    /// Cancels the notifications of `grantIDs` still held in the outbox (queued or waiting
    /// for a retry), in one statement; returns how many it cancelled. A notification a
    /// node's worker has claimed (`sending`) is left to its delivery gate.
    @discardableResult
    public func cancelQueuedNotifications(grantIDs: [Int64]) async throws -> Int {
        guard !grantIDs.isEmpty else { return 0 }
        return try await count(
            """
            UPDATE outbox SET state = 'cancelled', sealed_data = NULL
            WHERE message_id = \(message.id) AND kind = 'notification' AND state IN ('queued', 'retrying')
            AND grant_id = ANY(\(grantIDs))
            RETURNING 1
            """)
    }

    /// Queues a notice or report.
    public func queue(_ mail: OutboxMailRecord) async throws {
        try await queue([mail])
    }

    /// Queues notices and reports in multi-row INSERTs.
    public func queue(_ mails: [OutboxMailRecord]) async throws {
        try await PostgresVaultDatabase.insertOutboxMail(mails, on: connection, logger: logger)
    }

    /// Deletes the message's sealed parts (their chunk rows with them) when no live grant is
    /// left; returns whether it did. A gateway message's pass-through copy stays while one
    /// of its outbox rows may still deliver it, as on SQLite.
    @discardableResult
    public func deleteSealedPartsIfUnreachable() async throws -> Bool {
        let rows = try await PostgresVaultDatabase.rows(
            """
            SELECT (SELECT count(*) FROM grants WHERE message_id = \(message.id) AND revoked_at IS NULL) AS live,
            EXISTS (SELECT 1 FROM outbox WHERE message_id = \(message.id) AND kind = 'passthrough'
                AND state IN ('queued', 'sending', 'retrying')) AS pending_pass_through
            """, on: connection, logger: logger)
        guard let row = rows.first, try row.value("live", as: Int64.self) == 0 else { return false }
        let keep: Int64 =
            try row.value("pending_pass_through", as: Bool.self) ? Int64(VaultDatabase.passThroughPartIndex) : -1
        try await connection.query(
            "DELETE FROM sealed_parts WHERE message_id = \(message.id) AND part_index <> \(keep)", logger: logger)
        return true
    }

    /// Stores a corrected message in the same transaction (see `storeSealedMessage`), its
    /// parts sealed by `writeParts` into it.
    @discardableResult
    public func storeReplacement(
        _ replacement: MessageRecord, grants: [NewGrant], writeParts: (PostgresSealedPartWriter) async throws -> Void
    ) async throws -> [GrantRecord] {
        try await PostgresVaultDatabase.insertSealedMessage(
            replacement, grants: grants, on: connection, logger: logger, writeParts: writeParts)
    }

    /// The number of rows a statement ending in `RETURNING 1` touched.
    private func count(_ query: PostgresQuery) async throws -> Int {
        try await connection.query(query, logger: logger).collect().count
    }
}
