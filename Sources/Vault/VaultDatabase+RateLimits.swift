import Foundation
import GRDB

extension VaultDatabase {
    /// The times of the failures counted against `subject` under `scope` since `since`,
    /// oldest first.
    public func rateLimitEvents(scope: String, subject: String, since: Date) throws -> [Date] {
        try reader.read { db in
            try Date.fetchAll(
                db,
                sql: "SELECT at FROM rate_limit_events WHERE scope = ? AND subject = ? AND at > ? ORDER BY at",
                arguments: [scope, subject, since])
        }
    }

    /// Records one failure; events older than `pruneBefore` (of any scope) are deleted in
    /// the same transaction, so the table stays small.
    public func recordRateLimitEvent(scope: String, subject: String, at: Date, pruneBefore: Date) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM rate_limit_events WHERE at < ?", arguments: [pruneBefore])
            try db.execute(
                sql: "INSERT INTO rate_limit_events (scope, subject, at) VALUES (?, ?, ?)",
                arguments: [scope, subject, at])
        }
    }

    /// Forgets the failures counted against `subject` under `scope` (after a success).
    public func clearRateLimitEvents(scope: String, subject: String) throws {
        try writer.write { db in
            try db.execute(
                sql: "DELETE FROM rate_limit_events WHERE scope = ? AND subject = ?", arguments: [scope, subject])
        }
    }
}
