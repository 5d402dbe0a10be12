import Foundation
import GRDB

extension VaultDatabase {
    /// The part that holds a gateway message's pass-through copy: part 1, the original as
    /// received (with outsiders, the `original.eml` their links open).
    ///
    /// It is stored once per message however many internal recipients it goes to; their
    /// outbox rows hold the message's data key (sealed under the master key) to stream it
    /// out. While any of those rows may still be delivered it stays, even when no link is
    /// live any more (a revocation); once they are all done and no link is live it is
    /// removed (`removeFinishedPassThroughCopies`).
    public static let passThroughPartIndex = 1

    /// The outbox states in which a mail may still go out.
    static let pendingStates = "('queued', 'sending', 'retrying')"

    /// The header and size of one sealed part, read now (the outbox worker's synchronous
    /// path); nil when the part is not stored.
    public func sealedPartRecord(messageID: String, index: Int) throws -> SealedPartRecord? {
        try reader.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT * FROM sealed_parts WHERE message_id = ? AND part_index = ?")
            return try SealedPartRecord.fetchOne(statement, arguments: [messageID, index])
        }
    }

    /// Removes the pass-through copies of the messages among `messageIDs` (of every message
    /// when nil) that nothing needs any more: every `passthrough` row of the message is sent,
    /// failed or cancelled, and no grant of it is live (a live link still opens the part as
    /// `original.eml`). Returns how many it removed.
    ///
    /// The rows go in one write transaction; the files are unlinked once it committed. No
    /// directory fsync: a name that survives a crash has no row and is removed as an orphan
    /// when the vault next opens.
    @discardableResult
    public func removeFinishedPassThroughCopies(messageIDs: [String]? = nil) throws -> Int {
        if let messageIDs, messageIDs.isEmpty { return 0 }
        let finished: [String] = try writer.write { db in
            let unneeded = """
                part_index = ? AND EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = sealed_parts.message_id
                    AND o.kind = 'passthrough')
                AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = sealed_parts.message_id
                    AND o.kind = 'passthrough' AND o.state IN \(Self.pendingStates))
                AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.message_id = sealed_parts.message_id
                    AND g.revoked_at IS NULL)
                """
            let finished: [String]
            if let messageIDs {
                finished = try String.fetchAll(
                    db,
                    sql: "SELECT message_id FROM sealed_parts WHERE message_id IN (SELECT value FROM json_each(?)) AND "
                        + unneeded,
                    arguments: [Self.jsonStrings(messageIDs), Self.passThroughPartIndex])
            } else {
                finished = try String.fetchAll(
                    db, sql: "SELECT message_id FROM sealed_parts WHERE " + unneeded,
                    arguments: [Self.passThroughPartIndex])
            }
            try db.execute(
                sql: """
                    DELETE FROM sealed_parts WHERE part_index = ? AND message_id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [Self.passThroughPartIndex, Self.jsonStrings(finished)])
            return finished
        }
        for messageID in finished { parts.remove(messageID: messageID, parts: [Self.passThroughPartIndex]) }
        return finished.count
    }

    /// Whether a `passthrough` row of the message may still be delivered.
    static func hasPendingPassThrough(messageID: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = ? AND kind = 'passthrough'
                AND state IN \(pendingStates))
                """,
            arguments: [messageID]) ?? false
    }

    /// `["a","b"]`: a JSON array of strings for `json_each`.
    static func jsonStrings(_ values: [String]) -> String {
        let data = (try? JSONEncoder().encode(values)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
