import Foundation
import GRDB

extension VaultDatabase {
    /// The grant whose token hashes to `tokenHash`, with its message.
    public func grant(tokenHash: [UInt8]) async throws -> GrantLookup? {
        try await reader.read { db in
            guard let grant = try GrantRecord.filter(GrantRecord.Columns.tokenHash == Data(tokenHash)).fetchOne(db),
                let message = try MessageRecord.fetchOne(db, key: grant.messageId)
            else { return nil }
            return GrantLookup(grant: grant, message: message)
        }
    }

    /// How many failed attempts were made with this token since `since`.
    public func failedAttempts(tokenHash: [UInt8], since: Date) async throws -> Int {
        try await reader.read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM access_events WHERE token_hash = ? AND at >= ? AND result = ?",
                arguments: [Data(tokenHash), since, AccessEventRecord.Result.invalidKey.rawValue]) ?? 0
        }
    }

    /// Counts one successful open of a live grant, unless its view limit is reached.
    ///
    /// The limit is enforced by the update itself, so two concurrent opens cannot both take
    /// the last view. Returns false (and counts nothing) when the grant is revoked or its
    /// views are used up.
    public func recordOpen(grantID: Int64, tokenHash: [UInt8], maxViews: Int?, at: Date) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE grants SET views = views + 1, first_opened_at = COALESCE(first_opened_at, ?), last_opened_at = ?
                    WHERE id = ? AND revoked_at IS NULL AND (? IS NULL OR views < ?)
                    """,
                arguments: [at, at, grantID, maxViews, maxViews])
            guard db.changesCount == 1 else { return false }
            var event = AccessEventRecord(grantId: grantID, tokenHash: Data(tokenHash), at: at, result: .opened)
            try event.insert(db)
            return true
        }
    }

    /// Appends one entry to the access log.
    public func recordAccess(grantID: Int64?, tokenHash: [UInt8], at: Date, result: AccessEventRecord.Result)
        async throws
    {
        try await writer.write { db in
            var event = AccessEventRecord(grantId: grantID, tokenHash: Data(tokenHash), at: at, result: result)
            try event.insert(db)
        }
    }
}
