import Foundation
import GRDB

extension VaultDatabase {
    /// The messages the SMTP gateway received from `sender` (the address compared without
    /// case) created in `since ... before`, newest first: the candidates of a native recall.
    public func gatewayMessages(sender: String, since: Date, before: Date) throws -> [MessageRecord] {
        try reader.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM messages
                    WHERE lower(sender) = lower(?) AND origin = 'gateway' AND created_at >= ? AND created_at <= ?
                    ORDER BY created_at DESC LIMIT 100
                    """,
                arguments: [sender, since, before])
            return UnreadableRows.decodeEach(rows, table: "messages", Self.decodeMessage).values
        }
    }

    /// Queues outbox rows and stores manage links (hashes, each for its message) in one
    /// transaction: either the mail that carries the links is queued and they work, or neither.
    public func queueMail(_ rows: [OutboxMailRecord], manageLinks: [(hash: Data, messageID: String)], at: Date) throws {
        try writer.write { db in
            for row in rows { try row.insert(db) }
            for link in manageLinks {
                try Self.insertCapability(link.hash, purpose: .manage, messageID: link.messageID, at: at, in: db)
            }
        }
    }

    /// Inserts one capability's hash for a message, inside the caller's transaction.
    static func insertCapability(
        _ hash: Data, purpose: MessageCapability, messageID: String, at: Date, in db: Database
    ) throws {
        try db.execute(
            sql: "INSERT INTO manage_links (id_hash, message_id, purpose, created_at) VALUES (?, ?, ?, ?)",
            arguments: [hash, messageID, purpose.rawValue, at])
    }
}
