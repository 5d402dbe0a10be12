import Foundation
import GRDB

extension VaultDatabase {
    /// How an attachment download was counted against its grant.
    public enum DownloadCount: Sendable, Equatable {
        /// A view of its own: the grant had no counted view inside the reading window.
        case counted
        /// Part of the reading that the grant's last counted view (inside the window) began.
        case partOfView
        /// Not allowed: the grant is revoked, or its views are used up and none is recent.
        case refused
    }

    /// Counts the start of an attachment download, the way `recordOpen` counts an open.
    ///
    /// A download counts as one view (first and last open recorded, `maxViews` enforced by
    /// the update itself) unless the grant's last counted view was at or after
    /// `readingSince`: then it belongs to that reading and counts nothing, also once the view
    /// limit is reached. The window is anchored at the counted view, so downloads without a
    /// new open cannot stretch it. Every allowed download is written to the access log.
    public func recordDownload(
        grantID: Int64, tokenHash: [UInt8], maxViews: Int?, at: Date, readingSince: Date
    ) async throws -> DownloadCount {
        let tokenHash = Data(tokenHash)
        return try await writer.write { db in
            let count = try db.cachedStatement(
                sql: """
                    UPDATE grants SET views = views + 1, first_opened_at = COALESCE(first_opened_at, ?), last_opened_at = ?
                    WHERE id = ? AND revoked_at IS NULL AND (last_opened_at IS NULL OR last_opened_at < ?)
                    AND (? IS NULL OR views < ?)
                    """)
            try count.execute(arguments: [at, at, grantID, readingSince, maxViews, maxViews])
            let result: DownloadCount
            if db.changesCount == 1 {
                result = .counted
            } else {
                let reading = try db.cachedStatement(
                    sql: "SELECT COUNT(*) FROM grants WHERE id = ? AND revoked_at IS NULL AND last_opened_at >= ?")
                result = try Int.fetchOne(reading, arguments: [grantID, readingSince]) == 1 ? .partOfView : .refused
            }
            if result != .refused {
                try Self.insertAccessEvent(db, grantID: grantID, tokenHash: tokenHash, at: at, result: .attachment)
            }
            return result
        }
    }

    /// When and why a grant was revoked; nil while it is live (or when there is no such grant).
    ///
    /// A download asks this between two batches of chunks (about 1 MiB): one indexed read
    /// through a cached statement, on a reader, never waiting for a writer.
    public func revocation(grantID: Int64) throws -> (at: Date, reason: String?, replaced: Bool)? {
        try reader.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT revoked_at, revoke_reason, replacement_message_id IS NOT NULL FROM grants
                    WHERE id = ? AND revoked_at IS NOT NULL
                    """)
            guard let row = try Row.fetchOne(statement, arguments: [grantID]) else { return nil }
            return (try row.decode(atIndex: 0), try row.decode(atIndex: 1), try row.decode(atIndex: 2))
        }
    }
}
