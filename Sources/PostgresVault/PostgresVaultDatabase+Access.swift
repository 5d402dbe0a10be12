import Foundation
import PostgresNIO
import Vault

extension PostgresVaultDatabase {
    /// The grant with this token hash and the message it opens, or nil for an unknown token.
    public func grant(tokenHash: [UInt8]) async throws -> GrantLookup? {
        try await withConnection("looking up a grant") { connection in
            guard
                let grantRow = try await Self.rows(
                    "SELECT * FROM grants WHERE token_hash = \(Data(tokenHash))", on: connection, logger: logger
                ).first
            else { return nil }
            let grant = try GrantRecord(postgres: grantRow)
            guard
                let messageRow = try await Self.rows(
                    "SELECT * FROM messages WHERE id = \(grant.messageId)", on: connection, logger: logger
                ).first
            else { return nil }
            return GrantLookup(grant: grant, message: try MessageRecord(postgres: messageRow))
        }
    }

    /// How many failed attempts (wrong key) were made with this token since `since`.
    public func failedAttempts(tokenHash: [UInt8], since: Date) async throws -> Int {
        try await withConnection("counting failed attempts") { connection in
            let rows = try await Self.rows(
                """
                SELECT count(*) AS failures FROM access_events WHERE token_hash = \(Data(tokenHash))
                AND result = \(AccessEventRecord.Result.invalidKey.rawValue) AND at >= \(since.postgres)
                """, on: connection, logger: logger)
            return Int(try rows.first?.value("failures", as: Int64.self) ?? 0)
        }
    }

    /// Counts one successful open of a live grant, unless its view limit is reached, and
    /// logs it; returns false (and counts nothing) when the grant is revoked or its views
    /// are used up.
    ///
    /// One statement: `UPDATE grants … WHERE revoked_at IS NULL … RETURNING` feeding the
    /// access log's INSERT. Under READ COMMITTED the update re-reads the row's latest
    /// committed version (after waiting for a revocation that holds it), so an open that
    /// starts after a revoke committed on any node is refused, and two concurrent opens
    /// cannot both take the last view.
    public func recordOpen(grantID: Int64, tokenHash: [UInt8], maxViews: Int?, at: Date) async throws -> Bool {
        try await withConnection("recording an open") { connection in
            let at = at.postgres
            let maxViews = maxViews.map(Int64.init)
            let rows = try await Self.rows(
                """
                WITH opened AS (
                    UPDATE grants SET views = views + 1, first_opened_at = COALESCE(first_opened_at, \(at)),
                    last_opened_at = \(at)
                    WHERE id = \(grantID) AND revoked_at IS NULL AND (\(maxViews)::bigint IS NULL OR views < \(maxViews))
                    RETURNING id
                )
                INSERT INTO access_events (grant_id, token_hash, at, result)
                SELECT id, \(Data(tokenHash)), \(at), \(AccessEventRecord.Result.opened.rawValue) FROM opened
                RETURNING id
                """, on: connection, logger: logger)
            return rows.count == 1
        }
    }

    /// Appends one entry to the access log.
    public func recordAccess(grantID: Int64?, tokenHash: [UInt8], at: Date, result: AccessEventRecord.Result)
        async throws
    {
        try await withConnection("recording an access") { connection in
            try await connection.query(
                """
                INSERT INTO access_events (grant_id, token_hash, at, result)
                VALUES (\(grantID), \(Data(tokenHash)), \(at.postgres), \(result.rawValue))
                """, logger: logger)
        }
    }
}
