import Foundation
import GRDB

extension VaultDatabase {
    /// The grant whose token hashes to `tokenHash`, with its message.
    ///
    /// Runs on every page view and every open, so it uses cached prepared statements
    /// instead of building its SQL each time, and reads the two rows column by column
    /// (`decodeGrant`, `decodeMessage`) instead of through `Codable`.
    public func grant(tokenHash: [UInt8]) async throws -> GrantLookup? {
        try await reader.read { db in
            let grants = try db.cachedStatement(sql: "SELECT * FROM grants WHERE token_hash = ?")
            guard let grantRow = try Row.fetchOne(grants, arguments: [Data(tokenHash)]) else { return nil }
            let grant = try Self.decodeGrant(grantRow)
            let messages = try db.cachedStatement(sql: "SELECT * FROM messages WHERE id = ?")
            guard let messageRow = try Row.fetchOne(messages, arguments: [grant.messageId]) else { return nil }
            return GrantLookup(grant: grant, message: try Self.decodeMessage(messageRow))
        }
    }

    /// What an open reads before it checks the key, from one snapshot.
    public struct OpenLookup: Sendable {
        /// The grant and its message; nil for an unknown token.
        public var grant: GrantLookup?
        /// The token's failed attempts in the window (`failedAttempts`).
        public var failedAttempts: Int
        /// The client's failed opens in its window (`openClientFailures`); 0 without a client.
        public var clientFailures: Int
        /// Part 0 (the envelope) of the grant's message, when asked for and stored.
        public var envelopePart: SealedPartRecord?
    }

    /// `grant(tokenHash:)`, `failedAttempts`, `openClientFailures` and `sealedPart(…, index: 0)`
    /// in one read transaction instead of four.
    ///
    /// Why: every open read these one by one, and each read is a hop to GRDB's reader queue
    /// and a transaction; the answers are the same values, taken from one snapshot.
    public func openLookup(
        tokenHash: [UInt8], failuresSince: Date, client: String?, clientSince: Date, envelope: Bool
    ) async throws -> OpenLookup {
        try await reader.read { db in
            let hash = Data(tokenHash)
            let failures = try db.cachedStatement(
                sql: "SELECT COUNT(*) FROM access_events WHERE token_hash = ? AND result = ? AND at >= ?")
            var result = OpenLookup(
                grant: nil,
                failedAttempts: try Int.fetchOne(
                    failures, arguments: [hash, AccessEventRecord.Result.invalidKey.rawValue, failuresSince]) ?? 0,
                clientFailures: 0, envelopePart: nil)
            if let client, !client.isEmpty {
                let clients = try db.cachedStatement(
                    sql: "SELECT COUNT(*) FROM rate_limit_events WHERE scope = ? AND subject = ? AND at >= ?")
                result.clientFailures =
                    try Int.fetchOne(clients, arguments: [Self.openClientScope, client, clientSince]) ?? 0
            }
            let grants = try db.cachedStatement(sql: "SELECT * FROM grants WHERE token_hash = ?")
            guard let grantRow = try Row.fetchOne(grants, arguments: [hash]) else { return result }
            let grant = try Self.decodeGrant(grantRow)
            let messages = try db.cachedStatement(sql: "SELECT * FROM messages WHERE id = ?")
            guard let messageRow = try Row.fetchOne(messages, arguments: [grant.messageId]) else { return result }
            result.grant = GrantLookup(grant: grant, message: try Self.decodeMessage(messageRow))
            if envelope {
                let parts = try db.cachedStatement(
                    sql: "SELECT * FROM sealed_parts WHERE message_id = ? AND part_index = ?")
                result.envelopePart = try SealedPartRecord.fetchOne(parts, arguments: [grant.messageId, 0])
            }
            return result
        }
    }

    /// The `grants` columns `decodeGrant` reads, in table order.
    static let grantColumns = [
        "id", "message_id", "token_hash", "recipient", "kind", "share_kid", "sealed_share", "wrapped_dek", "views",
        "first_opened_at", "last_opened_at", "revoked_at", "revoke_reason", "notification_message_id",
        "replacement_message_id",
    ]
    /// The `messages` columns `decodeMessage` reads, in table order.
    static let messageColumns = [
        "id", "sender", "sender_name", "sealed_subject", "subject_kid", "locale", "created_at", "expires_at",
        "max_views", "deliver_after", "part_count", "supersedes", "verify", "origin",
    ]

    /// A grant row read column by column (by index: the names were checked first) through
    /// GRDB's throwing `decode`, never the trapping subscript; the same value
    /// `GrantRecord(row:)` gives. A row that does not decode is `VaultError.unreadableRow`.
    ///
    /// Why: `Codable` decoding with `convertFromSnakeCase` converts every column name on
    /// every row and was a quarter of a page view's CPU. A row of any other shape (a
    /// migration added a column this does not know, a NULL where none may be) goes through
    /// `Codable`, so a schema change can make this slower but never wrong.
    static func decodeGrant(_ row: Row) throws(VaultError) -> GrantRecord {
        try UnreadableRows.decode(row, table: "grants") { row in
            guard row.columnNames.elementsEqual(grantColumns) else { return try GrantRecord(row: row) }
            let kind: GrantRecord.Kind = try UnreadableRows.enumValue(row, atIndex: 4)
            var grant = GrantRecord(
                messageId: try row.decode(atIndex: 1), tokenHash: try row.decode(atIndex: 2),
                recipient: try row.decode(atIndex: 3), kind: kind, shareKid: "", sealedShare: Data(),
                wrappedDek: Data(), notificationMessageId: try row.decode(atIndex: 13))
            grant.id = try row.decode(atIndex: 0)
            grant.shareKid = try row.decode(atIndex: 5)
            grant.sealedShare = try row.decode(atIndex: 6)
            grant.wrappedDek = try row.decode(atIndex: 7)
            grant.views = try row.decode(atIndex: 8)
            grant.firstOpenedAt = try row.decode(atIndex: 9)
            grant.lastOpenedAt = try row.decode(atIndex: 10)
            grant.revokedAt = try row.decode(atIndex: 11)
            grant.revokeReason = try row.decode(atIndex: 12)
            grant.replacementMessageId = try row.decode(atIndex: 14)
            return grant
        }
    }

    /// A message row read column by column; the same value `MessageRecord(row:)` gives
    /// (see `decodeGrant` for why, and for the fallback).
    static func decodeMessage(_ row: Row) throws(VaultError) -> MessageRecord {
        try UnreadableRows.decode(row, table: "messages") { row in
            guard row.columnNames.elementsEqual(messageColumns) else { return try MessageRecord(row: row) }
            return MessageRecord(
                id: try row.decode(atIndex: 0), sender: try row.decode(atIndex: 1),
                senderName: try row.decode(atIndex: 2), sealedSubject: try row.decode(atIndex: 3),
                subjectKid: try row.decode(atIndex: 4), locale: try row.decode(atIndex: 5),
                createdAt: try row.decode(atIndex: 6), expiresAt: try row.decode(atIndex: 7),
                maxViews: try row.decode(atIndex: 8), deliverAfter: try row.decode(atIndex: 9),
                partCount: try row.decode(atIndex: 10), supersedes: try row.decode(atIndex: 11),
                verify: try row.decode(atIndex: 12), origin: try row.decode(atIndex: 13))
        }
    }

    /// How many failed attempts were made with this token since `since`.
    public func failedAttempts(tokenHash: [UInt8], since: Date) async throws -> Int {
        try await reader.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT COUNT(*) FROM access_events WHERE token_hash = ? AND result = ? AND at >= ?")
            return try Int.fetchOne(
                statement, arguments: [Data(tokenHash), AccessEventRecord.Result.invalidKey.rawValue, since]) ?? 0
        }
    }

    /// Counts one successful open of a live grant, unless its view limit is reached.
    ///
    /// The limit is enforced by the update itself, so two concurrent opens cannot both take
    /// the last view. Returns false (and counts nothing) when the grant is revoked or its
    /// views are used up.
    public func recordOpen(grantID: Int64, tokenHash: [UInt8], maxViews: Int?, at: Date) async throws -> Bool {
        let tokenHash = Data(tokenHash)
        return try await writer.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE grants SET views = views + 1, first_opened_at = COALESCE(first_opened_at, ?), last_opened_at = ?
                    WHERE id = ? AND revoked_at IS NULL AND (? IS NULL OR views < ?)
                    """)
            try update.execute(arguments: [at, at, grantID, maxViews, maxViews])
            guard db.changesCount == 1 else { return false }
            try Self.insertAccessEvent(db, grantID: grantID, tokenHash: tokenHash, at: at, result: .opened)
            return true
        }
    }

    /// Appends one entry to the access log.
    public func recordAccess(grantID: Int64?, tokenHash: [UInt8], at: Date, result: AccessEventRecord.Result)
        async throws
    {
        let tokenHash = Data(tokenHash)
        try await writer.write { db in
            try Self.insertAccessEvent(db, grantID: grantID, tokenHash: tokenHash, at: at, result: result)
        }
    }

    /// One `access_events` row, through a cached statement.
    static func insertAccessEvent(
        _ db: Database, grantID: Int64?, tokenHash: Data, at: Date, result: AccessEventRecord.Result
    ) throws {
        let insert = try db.cachedStatement(
            sql: "INSERT INTO access_events (grant_id, token_hash, at, result) VALUES (?, ?, ?, ?)")
        try insert.execute(arguments: [grantID, tokenHash, at, result.rawValue])
    }
}
