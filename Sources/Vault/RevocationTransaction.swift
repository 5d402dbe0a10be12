import Foundation
import GRDB

/// The writes a revocation may make, all inside one transaction.
///
/// Handed to the closure of `VaultDatabase.revoke(messageID:_:)`; the closure reads the
/// grants as they are at that instant, revokes, cancels, queues notices and stores a
/// replacement, and either all of it commits or none of it does.
public struct RevocationTransaction {
    let db: Database
    let files: PartFileJournal
    /// The message being revoked.
    public let message: MessageRecord

    /// The message's grants as they are inside this transaction.
    public func grants() throws -> [GrantRecord] {
        try GrantRecord.filter(GrantRecord.Columns.messageId == message.id).order(GrantRecord.Columns.id).fetchAll(db)
    }

    /// The recipient's notification row, if any.
    public func notification(grantID: Int64) throws -> OutboxMailRecord? {
        try OutboxMailRecord
            .filter(OutboxMailRecord.Columns.grantId == grantID)
            .filter(Column("kind") == OutboxMailRecord.Kind.notification.rawValue)
            .fetchOne(db)
    }

    /// Destroys the grant's key material and records when and why.
    public func revokeGrant(_ grantID: Int64, at: Date, reason: String?, replacementMessageID: String?) throws {
        try db.execute(
            sql: """
                UPDATE grants SET sealed_share = NULL, wrapped_dek = NULL, revoked_at = ?, revoke_reason = ?,
                replacement_message_id = ? WHERE id = ? AND revoked_at IS NULL
                """,
            arguments: [at, reason, replacementMessageID, grantID])
    }

    /// Cancels a notification still held in the outbox; returns whether one was cancelled.
    public func cancelQueuedNotification(grantID: Int64) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE outbox SET state = 'cancelled', sealed_data = NULL
                WHERE grant_id = ? AND kind = 'notification' AND state IN ('queued', 'retrying')
                """,
            arguments: [grantID])
        return db.changesCount > 0
    }

    /// Queues a notice or report.
    public func queue(_ mail: OutboxMailRecord) throws {
        try mail.insert(db)
    }

    /// Deletes the message's sealed parts when no live grant is left; returns whether it did.
    ///
    /// The rows go in this transaction, the part files are unlinked once it commits (not
    /// overwritten: with every wrapped data key destroyed they are undecryptable).
    @discardableResult
    public func deleteSealedPartsIfUnreachable() throws -> Bool {
        let live = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM grants WHERE message_id = ? AND revoked_at IS NULL", arguments: [message.id]) ?? 0
        guard live == 0 else { return false }
        let indexes = try Int.fetchAll(
            db, sql: "SELECT part_index FROM sealed_parts WHERE message_id = ?", arguments: [message.id])
        files.unlinkAfterCommit(messageID: message.id, parts: indexes)
        try db.execute(sql: "DELETE FROM sealed_parts WHERE message_id = ?", arguments: [message.id])
        return true
    }

    /// Stores a corrected message in the same transaction (see `storeSealedMessage`).
    @discardableResult
    public func storeReplacement(
        _ replacement: MessageRecord, grants: [NewGrant], writeParts: (SealedPartWriter) throws -> Void
    ) throws -> [GrantRecord] {
        try VaultDatabase.insertSealedMessage(replacement, grants: grants, in: db, files: files, writeParts: writeParts)
    }
}

extension VaultDatabase {
    /// Runs a revocation of message `messageID` in one transaction, then checkpoints the
    /// WAL (TRUNCATE) so the destroyed key material is gone from disk, not only from the
    /// logical database. Part files of deleted parts are unlinked after the commit; those of
    /// a replacement are fsynced before it, and removed if the transaction fails.
    public func revoke<T>(messageID: String, _ body: (RevocationTransaction) throws -> T) throws -> T {
        let files = PartFileJournal(store: parts)
        let result: T
        do {
            result = try writer.write { db in
                guard let message = try MessageRecord.fetchOne(db, key: messageID) else {
                    throw VaultError.messageNotFound(messageID)
                }
                let result = try body(RevocationTransaction(db: db, files: files, message: message))
                try files.prepareCommit()
                return result
            }
        } catch {
            files.rolledBack()
            throw error
        }
        files.committed()
        try checkpointTruncating()
        return result
    }
}
