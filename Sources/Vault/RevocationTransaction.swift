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

    /// What a revocation decides on for one grant: whether it is already revoked, whether
    /// and when it was first opened, and the state of its notification.
    ///
    /// A revocation reads these before its write transaction (to render the notices
    /// outside the write lock) and again inside it; a grant whose state differs between the
    /// two reads is decided afresh inside.
    public struct GrantState: Sendable, Equatable {
        /// The grant's row id.
        public var grantID: Int64
        /// The recipient's address.
        public var recipient: String
        /// `to`, `cc` or `bcc`.
        public var kind: GrantRecord.Kind
        /// The Message-ID of the mail that carried the link, which notices thread under.
        public var notificationMessageID: String
        /// When it was revoked; nil while live.
        public var revokedAt: Date?
        /// Its first successful open; nil if never opened.
        public var firstOpenedAt: Date?
        /// The state of its notification mail; nil when it has none.
        public var notification: OutboxMailRecord.State?

        /// Creates a state.
        public init(
            grantID: Int64, recipient: String, kind: GrantRecord.Kind, notificationMessageID: String, revokedAt: Date?,
            firstOpenedAt: Date?, notification: OutboxMailRecord.State?
        ) {
            self.grantID = grantID
            self.recipient = recipient
            self.kind = kind
            self.notificationMessageID = notificationMessageID
            self.revokedAt = revokedAt
            self.firstOpenedAt = firstOpenedAt
            self.notification = notification
        }
    }

    /// The message's grants as they are inside this transaction.
    public func grants() throws -> [GrantRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM grants WHERE message_id = ? ORDER BY id", arguments: [message.id])
            .map(VaultDatabase.decodeGrant)
    }

    /// The state of every grant of the message inside this transaction, in grant order: two
    /// queries (the grants, the notification rows), whatever the number of recipients.
    public func grantStates() throws -> [GrantState] {
        try VaultDatabase.grantStates(messageID: message.id, in: db)
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
        try revokeGrants([grantID], at: at, reason: reason, replacementMessageID: replacementMessageID)
    }

    /// Destroys the key material of the message's live grants among `grantIDs` and records
    /// when and why, in one statement; returns how many it revoked.
    @discardableResult
    public func revokeGrants(_ grantIDs: [Int64], at: Date, reason: String?, replacementMessageID: String?) throws -> Int {
        guard !grantIDs.isEmpty else { return 0 }
        try db.execute(
            sql: """
                UPDATE grants SET sealed_share = NULL, wrapped_dek = NULL, revoked_at = ?, revoke_reason = ?,
                replacement_message_id = ?
                WHERE message_id = ? AND revoked_at IS NULL AND id IN (SELECT value FROM json_each(?))
                """,
            arguments: [at, reason, replacementMessageID, message.id, Self.jsonArray(grantIDs)])
        return db.changesCount
    }

    /// Cancels a notification still held in the outbox; returns whether one was cancelled.
    public func cancelQueuedNotification(grantID: Int64) throws -> Bool {
        try cancelQueuedNotifications(grantIDs: [grantID]) > 0
    }

    /// Cancels the notifications of `grantIDs` still held in the outbox (queued or waiting
    /// for a retry), in one statement; returns how many it cancelled.
    @discardableResult
    public func cancelQueuedNotifications(grantIDs: [Int64]) throws -> Int {
        guard !grantIDs.isEmpty else { return 0 }
        try db.execute(
            sql: """
                UPDATE outbox SET state = 'cancelled', sealed_data = NULL
                WHERE message_id = ? AND kind = 'notification' AND state IN ('queued', 'retrying')
                AND grant_id IN (SELECT value FROM json_each(?))
                """,
            arguments: [message.id, Self.jsonArray(grantIDs)])
        return db.changesCount
    }

    /// Queues a notice or report.
    public func queue(_ mail: OutboxMailRecord) throws {
        try queue([mail])
    }

    /// Queues notices and reports through one cached INSERT statement.
    public func queue(_ mails: [OutboxMailRecord]) throws {
        try VaultDatabase.insertOutboxMail(mails, in: db)
    }

    /// `[1,2,3]`: a list of ids for `json_each`, so one statement takes any number of them.
    static func jsonArray(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }

    /// Deletes the message's sealed parts when no live grant is left; returns whether it did.
    ///
    /// The rows go in this transaction, the part files are unlinked once it commits (not
    /// overwritten: with every wrapped data key destroyed they are undecryptable).
    ///
    /// A gateway message's pass-through copy (part 1, `VaultDatabase.passThroughPartIndex`)
    /// stays while one of its outbox rows may still deliver it: it goes to internal
    /// recipients, who hold no revocable link; no link opens it any more (their keys are
    /// destroyed), and it is removed once its rows are done
    /// (`removeFinishedPassThroughCopies`), or here when they already are.
    @discardableResult
    public func deleteSealedPartsIfUnreachable() throws -> Bool {
        let live = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM grants WHERE message_id = ? AND revoked_at IS NULL", arguments: [message.id]) ?? 0
        guard live == 0 else { return false }
        var indexes = try Int.fetchAll(
            db, sql: "SELECT part_index FROM sealed_parts WHERE message_id = ?", arguments: [message.id])
        if indexes.contains(VaultDatabase.passThroughPartIndex),
            try VaultDatabase.hasPendingPassThrough(messageID: message.id, db)
        {
            indexes.removeAll { $0 == VaultDatabase.passThroughPartIndex }
        }
        files.unlinkAfterCommit(messageID: message.id, parts: indexes)
        try db.execute(
            sql: "DELETE FROM sealed_parts WHERE message_id = ? AND part_index IN (SELECT value FROM json_each(?))",
            arguments: [message.id, Self.jsonArray(indexes.map(Int64.init))])
        return true
    }

    /// Stores a corrected message in the same transaction (see `storeSealedMessage`): the
    /// parts staged before the transaction (`revoke(messageID:adopting:_:)`) and those
    /// `writeParts` seals now (the envelope, which names the recipients decided here).
    @discardableResult
    public func storeReplacement(
        _ replacement: MessageRecord, grants: [NewGrant], writeParts: (SealedPartWriter) throws -> Void
    ) throws -> [GrantRecord] {
        try VaultDatabase.insertSealedMessage(replacement, grants: grants, in: db, files: files, writeParts: writeParts)
    }
}

extension VaultDatabase {
    /// Runs a revocation of message `messageID` in one transaction, then checkpoints the
    /// WAL (TRUNCATE) so the destroyed key material is gone from the WAL file, not only from
    /// the logical database. Once the transaction commits the revocation succeeds: a
    /// checkpoint that stays busy is logged and owed (`checkpointAfterRevocation()`), never
    /// reported as a failure of a revocation that happened. Part files of deleted parts are unlinked after the commit; those of
    /// a replacement are fsynced before it, and removed if the transaction fails.
    ///
    /// `staged` holds parts sealed beforehand (`stageParts`) for a replacement the body may
    /// store; those it does not store are removed.
    public func revoke<T>(
        messageID: String, adopting staged: StagedParts? = nil, _ body: (RevocationTransaction) throws -> T
    ) throws -> T {
        let files = staged?.adopt() ?? PartFileJournal(store: parts)
        let result: T
        do {
            result = try writer.write { db in
                guard
                    let message = try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [messageID])
                        .map(VaultDatabase.decodeMessage)
                else {
                    throw VaultError.messageNotFound(messageID)
                }
                let result = try body(RevocationTransaction(db: db, files: files, message: message))
                files.abandonUnstored()
                try files.prepareCommit()
                return result
            }
        } catch {
            files.rolledBack()
            throw error
        }
        files.committed()
        checkpointAfterRevocation()
        return result
    }
}
