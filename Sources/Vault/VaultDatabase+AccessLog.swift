import Foundation
import GRDB

extension VaultDatabase {
    /// The access-log results that are not a successful open; only these are ever pruned.
    /// The same text as the WHERE of the partial index `access_events_prunable`, so SQLite
    /// uses that index.
    static let prunableResultsSQL = "result NOT IN ('opened', 'attachment')"

    /// Deletes the access-log rows of failed or refused attempts older than `before`;
    /// returns how many it deleted. Successful opens and downloads stay (the recall report
    /// and `retract status` read them).
    ///
    /// Deletes `batch` rows per transaction, so the write lock is never held for long even
    /// when months of failures are due at once; the partial index `access_events_prunable`
    /// (migration v8) finds them without reading the successful rows.
    @discardableResult
    public func pruneAccessLog(failuresBefore before: Date, batch: Int = 5_000) throws -> Int {
        var total = 0
        while true {
            let deleted = try writer.write { db in
                try db.execute(
                    sql: """
                        DELETE FROM access_events WHERE id IN (
                        SELECT id FROM access_events WHERE \(Self.prunableResultsSQL) AND at < ? LIMIT ?)
                        """,
                    arguments: [before, batch])
                return db.changesCount
            }
            total += deleted
            if deleted < batch { return total }
        }
    }

    /// Whether the token has an access-log row with `result` at or after `since`: a
    /// refusal that is already on record need not be written again.
    public func hasAccessEvent(tokenHash: [UInt8], result: AccessEventRecord.Result, since: Date) async throws -> Bool {
        try await reader.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT EXISTS (SELECT 1 FROM access_events WHERE token_hash = ? AND result = ? AND at >= ?)")
            return try Bool.fetchOne(statement, arguments: [Data(tokenHash), result.rawValue, since]) ?? false
        }
    }
}
