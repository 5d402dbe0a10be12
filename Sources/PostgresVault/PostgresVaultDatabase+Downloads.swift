import Foundation
import PostgresNIO
import Vault

extension PostgresVaultDatabase {
    /// Counts the start of an attachment download, the way `recordOpen` counts an open
    /// (`VaultDatabase.recordDownload`'s rules): one view, unless the grant's last counted
    /// view was at or after `readingSince` (then part of that reading); refused when the
    /// grant is revoked, on any node, or its views are used up and none is recent. Every
    /// allowed download is logged. One transaction; the count is one conditional UPDATE.
    public func recordDownload(
        grantID: Int64, tokenHash: [UInt8], maxViews: Int?, at: Date, readingSince: Date
    ) async throws -> VaultDatabase.DownloadCount {
        let at = at.postgres
        let maxViews = maxViews.map(Int64.init)
        return try await transaction("recording a download") { connection in
            let counted = try await Self.rows(
                """
                UPDATE grants SET views = views + 1, first_opened_at = COALESCE(first_opened_at, \(at)), last_opened_at = \(at)
                WHERE id = \(grantID) AND revoked_at IS NULL
                AND (last_opened_at IS NULL OR last_opened_at < \(readingSince.postgres))
                AND (\(maxViews)::bigint IS NULL OR views < \(maxViews))
                RETURNING 1
                """, on: connection, logger: logger)
            let result: VaultDatabase.DownloadCount
            if !counted.isEmpty {
                result = .counted
            } else {
                let reading = try await Self.rows(
                    """
                    SELECT 1 FROM grants WHERE id = \(grantID) AND revoked_at IS NULL
                    AND last_opened_at >= \(readingSince.postgres)
                    """, on: connection, logger: logger)
                result = reading.isEmpty ? .refused : .partOfView
            }
            if result != .refused {
                try await connection.query(
                    """
                    INSERT INTO access_events (grant_id, token_hash, at, result)
                    VALUES (\(grantID), \(Data(tokenHash)), \(at), \(AccessEventRecord.Result.attachment.rawValue))
                    """, logger: logger)
            }
            return result
        }
    }

    /// When and why a grant was revoked; nil while it is live (or when there is no such
    /// grant). A download asks this between two batches of chunks.
    public func revocation(grantID: Int64) async throws -> (at: Date, reason: String?, replaced: Bool)? {
        try await withConnection("reading a revocation") { connection in
            guard
                let row = try await Self.rows(
                    """
                    SELECT revoked_at, revoke_reason, replacement_message_id IS NOT NULL AS replaced FROM grants
                    WHERE id = \(grantID) AND revoked_at IS NOT NULL
                    """, on: connection, logger: logger
                ).first
            else { return nil }
            return (try row.date("revoked_at"), try row.value("revoke_reason"), try row.value("replaced"))
        }
    }

    /// Deletes the access-log rows of failed or refused attempts older than `before`, `batch`
    /// rows a statement (through the partial index `access_events_prunable`); returns how
    /// many. Successful opens and downloads stay.
    @discardableResult
    public func pruneAccessLog(failuresBefore before: Date, batch: Int = 5_000) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await withConnection("pruning the access log") { connection in
                try await Self.rows(
                    """
                    DELETE FROM access_events WHERE id IN (
                        SELECT id FROM access_events WHERE result NOT IN ('opened', 'attachment')
                        AND at < \(before.postgres) LIMIT \(Int64(batch)))
                    RETURNING 1
                    """, on: connection, logger: logger
                ).count
            }
            total += deleted
            if deleted < batch { return total }
        }
    }

    /// Whether the token has an access-log row with `result` at or after `since`.
    public func hasAccessEvent(tokenHash: [UInt8], result: AccessEventRecord.Result, since: Date) async throws -> Bool {
        try await withConnection("reading the access log") { connection in
            let rows = try await Self.rows(
                """
                SELECT EXISTS (SELECT 1 FROM access_events WHERE token_hash = \(Data(tokenHash))
                AND result = \(result.rawValue) AND at >= \(since.postgres)) AS found
                """, on: connection, logger: logger)
            return try rows.first?.value("found", as: Bool.self) ?? false
        }
    }
}
