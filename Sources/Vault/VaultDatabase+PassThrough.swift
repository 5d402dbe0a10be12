import Foundation
import GRDB

extension VaultDatabase {
    /// The part index of a gateway message's pass-through copy: outside the envelope's and
    /// the attachments' range (they count up from 0 and stay below `part_count`), so no
    /// reader's path ever reaches it.
    ///
    /// The copy is stored once per message however many internal recipients it goes to, sealed
    /// under a data key of its own that only its outbox rows hold (sealed under the master
    /// key): a link's data key does not open it, and destroying the links' keys (a
    /// revocation) does not touch it. It is a delivery spool, kept while any of its rows may
    /// still be delivered and removed afterwards (`removeFinishedPassThroughCopies`).
    public static let passThroughPartIndex = 1_000_000

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
    /// when nil) that no outbox row may still deliver: every `passthrough` row of the message
    /// is sent, failed or cancelled. Returns how many it removed.
    ///
    /// The rows go in one write transaction; the files are unlinked once it committed. No
    /// directory fsync: a name that survives a crash has no row and is removed as an orphan
    /// when the vault next opens.
    @discardableResult
    public func removeFinishedPassThroughCopies(messageIDs: [String]? = nil) throws -> Int {
        if let messageIDs, messageIDs.isEmpty { return 0 }
        let finished: [String] = try writer.write { db in
            let candidates: [String]
            if let messageIDs {
                candidates = try String.fetchAll(
                    db,
                    sql: """
                        SELECT message_id FROM sealed_parts WHERE part_index = ?
                        AND message_id IN (SELECT value FROM json_each(?))
                        """,
                    arguments: [Self.passThroughPartIndex, Self.jsonStrings(messageIDs)])
            } else {
                candidates = try String.fetchAll(
                    db, sql: "SELECT message_id FROM sealed_parts WHERE part_index = ?",
                    arguments: [Self.passThroughPartIndex])
            }
            var finished: [String] = []
            for messageID in candidates where try !Self.hasPendingPassThrough(messageID: messageID, db) {
                try db.execute(
                    sql: "DELETE FROM sealed_parts WHERE message_id = ? AND part_index = ?",
                    arguments: [messageID, Self.passThroughPartIndex])
                finished.append(messageID)
            }
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
