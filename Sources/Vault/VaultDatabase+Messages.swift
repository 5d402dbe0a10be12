import Foundation
import GRDB

extension VaultDatabase {
    /// Stores a sealed message, its parts, its grants and their notifications, and `mail`,
    /// further outbox rows (the gateway's pass-through copies and receipt), and the hashes of
    /// its capabilities (manage link, recall address): either all of it is in the vault
    /// afterwards, or none of it.
    ///
    /// `writeParts` seals and writes the parts through the writer it is given, before and
    /// outside the write transaction, into staging files (fsynced); a thrown error (an
    /// unreadable attachment, say) removes them and stores nothing. Then one short
    /// transaction inserts the rows and renames the staged files to their names, and fsyncs
    /// the parts directory before it commits. So a large send holds the write lock for
    /// milliseconds, not for the seconds its sealing takes, and another sender's revoke does
    /// not wait for it.
    @discardableResult
    public func storeSealedMessage(
        _ message: MessageRecord, grants: [NewGrant], mail: [OutboxMailRecord] = [],
        capabilities: [(hash: Data, purpose: MessageCapability)] = [],
        writeParts: (SealedPartWriter) throws -> Void
    ) throws -> [GrantRecord] {
        let files = PartFileJournal(store: parts)
        do {
            try writeParts(SealedPartWriter(messageID: message.id, files: files))
            let stored = try writer.write { db in
                let stored = try Self.insertSealedMessage(message, grants: grants, in: db, files: files) { _ in }
                for row in mail { try row.insert(db) }
                for capability in capabilities {
                    try Self.insertCapability(
                        capability.hash, purpose: capability.purpose, messageID: message.id, at: message.createdAt,
                        in: db)
                }
                try files.prepareCommit()
                return stored
            }
            files.committed()
            return stored
        } catch {
            files.rolledBack()
            throw error
        }
    }

    /// Seals parts of message `messageID` into staging files now, outside any transaction,
    /// for a later transaction to store (a revocation's replacement: its attachments are
    /// sealed before the revocation takes the write lock).
    public func stageParts(messageID: String, _ writeParts: (SealedPartWriter) throws -> Void) throws -> StagedParts {
        let staged = StagedParts(journal: PartFileJournal(store: parts))
        try writeParts(SealedPartWriter(messageID: messageID, files: staged.journal))
        return staged
    }

    /// Inserts a message, its staged parts (sealing them first by `writeParts`, inside the
    /// caller's transaction, when it does anything), its grants and their notifications.
    static func insertSealedMessage(
        _ message: MessageRecord, grants: [NewGrant], in db: Database, files: PartFileJournal,
        writeParts: (SealedPartWriter) throws -> Void
    ) throws -> [GrantRecord] {
        try message.insert(db)
        try writeParts(SealedPartWriter(messageID: message.id, files: files))
        try files.insertStagedParts(db)
        var stored: [GrantRecord] = []
        for var pair in grants {
            try pair.grant.insert(db)
            if var notification = pair.notification {
                notification.grantId = pair.grant.id
                try notification.insert(db)
            }
            stored.append(pair.grant)
        }
        return stored
    }

    /// The message with this id.
    public func message(id: String) throws -> MessageRecord? {
        try reader.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]).map(Self.decodeMessage)
        }
    }

    /// Every message, newest first.
    public func messages() throws -> [MessageRecord] {
        try reader.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM messages ORDER BY created_at DESC")
            return UnreadableRows.decodeEach(rows, table: "messages", Self.decodeMessage).values
        }
    }

    /// Every message (or only those `sender` sent, the address compared without case),
    /// newest first, with its recipient counts, in one query.
    public func messageSummaries(sender: String? = nil) throws -> [(
        message: MessageRecord, recipients: Int, opened: Int, revoked: Int
    )] {
        try reader.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.*, COUNT(g.id) AS recipient_count, COUNT(g.first_opened_at) AS opened_count,
                    COUNT(g.revoked_at) AS revoked_count
                    FROM messages m LEFT JOIN grants g ON g.message_id = m.id
                    WHERE ? IS NULL OR lower(m.sender) = lower(?)
                    GROUP BY m.id ORDER BY m.created_at DESC
                    """,
                arguments: [sender, sender])
            // An unreadable message is left out (and reported once), so one bad row does not
            // take the sender's whole list with it.
            return UnreadableRows.decodeEach(rows, table: "messages") { row in
                (
                    message: try MessageRecord(row: row), recipients: try row.decode(forColumn: "recipient_count"),
                    opened: try row.decode(forColumn: "opened_count"), revoked: try row.decode(forColumn: "revoked_count")
                )
            }.values
        }
    }

    /// The grants of a message in the order they were created.
    public func grants(messageID: String) throws -> [GrantRecord] {
        try reader.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM grants WHERE message_id = ? ORDER BY id", arguments: [messageID])
                .map(Self.decodeGrant)
        }
    }

    /// The access log of a message, oldest first.
    public func accessEvents(messageID: String) throws -> [AccessEventRecord] {
        try reader.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.* FROM access_events e JOIN grants g ON g.id = e.grant_id
                    WHERE g.message_id = ? ORDER BY e.at, e.id
                    """,
                arguments: [messageID])
            return UnreadableRows.decodeEach(rows, table: "access_events") { try AccessEventRecord(row: $0) }.values
        }
    }

    /// The header and size of one sealed part.
    public func sealedPart(messageID: String, index: Int) async throws -> SealedPartRecord? {
        try await reader.read { db in
            // A cached statement: every open reads part 0, and building this query each time
            // was a tenth of an open's CPU (docs/performance.md, HTTP).
            let statement = try db.cachedStatement(
                sql: "SELECT * FROM sealed_parts WHERE message_id = ? AND part_index = ?")
            return try SealedPartRecord.fetchOne(statement, arguments: [messageID, index])
        }
    }

    /// One sealed part, open for reading: from its row when it is stored there, else from
    /// its file. Throws when the file is missing (the part is not, or no longer, stored) or
    /// its size does not fit the row's chunk count.
    public func openSealedPart(_ part: SealedPartRecord) throws -> SealedPartStore.Input {
        if let inline = part.inlineData {
            return try parts.open(
                inline: inline, messageID: part.messageId, part: part.partIndex, chunkCount: part.chunkCount)
        }
        return try parts.open(messageID: part.messageId, part: part.partIndex, chunkCount: part.chunkCount)
    }

    /// One ciphertext chunk, or nil when it is not (or no longer) stored.
    ///
    /// Opens the part's file for this one chunk; a download reads whole batches through
    /// `openSealedPart` instead.
    public func sealedChunk(messageID: String, part: Int, chunk: Int) async throws -> [UInt8]? {
        guard let record = try await sealedPart(messageID: messageID, index: part), chunk >= 0,
            chunk < record.chunkCount
        else { return nil }
        guard let input = try? openSealedPart(record) else { return nil }
        return try input.read(chunk: chunk)
    }
}
