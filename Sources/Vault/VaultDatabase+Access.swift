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
    ///
    /// Tried and dropped (issue 15): GRDB's synchronous `read` here, which runs in place and
    /// saves the two thread hand-offs (~10% of an open's CPU). It deadlocks: the async reads
    /// elsewhere (`logRefusal`'s, the page view's) hold a reader connection across an `await`
    /// that needs a thread of the concurrency pool, while the synchronous ones block those
    /// threads waiting for a connection (500 concurrent opens in `ConcurrentOpenTests` hung).
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
                    failures,
                    arguments: [
                        hash, AccessEventRecord.Result.invalidKey.rawValue, Self.storageString(failuresSince),
                    ]) ?? 0,
                clientFailures: 0, envelopePart: nil)
            if let client, !client.isEmpty {
                let clients = try db.cachedStatement(
                    sql: "SELECT COUNT(*) FROM rate_limit_events WHERE scope = ? AND subject = ? AND at >= ?")
                result.clientFailures =
                    try Int.fetchOne(
                        clients, arguments: [Self.openClientScope, client, Self.storageString(clientSince)]) ?? 0
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
                if let partRow = try Row.fetchOne(parts, arguments: [grant.messageId, 0]) {
                    result.envelopePart = try Self.decodeSealedPart(partRow)
                }
            }
            return result
        }
    }

    /// The `sealed_parts` columns `decodeSealedPart` reads, in table order.
    static let sealedPartColumns = ["message_id", "part_index", "header", "chunk_count", "plaintext_size", "inline_data"]

    /// A part row read column by column; the same value `SealedPartRecord(row:)` gives (see
    /// `decodeGrant` for why, and for the fallback: `Codable` with snake-case keys was a
    /// quarter of `openLookup`'s CPU).
    static func decodeSealedPart(_ row: Row) throws(VaultError) -> SealedPartRecord {
        try UnreadableRows.decode(row, table: "sealed_parts") { row in
            guard row.columnNames.elementsEqual(sealedPartColumns) else { return try SealedPartRecord(row: row) }
            return SealedPartRecord(
                messageId: try row.decode(atIndex: 0), partIndex: try row.decode(atIndex: 1),
                header: try row.decode(atIndex: 2), chunkCount: try row.decode(atIndex: 3),
                plaintextSize: try row.decode(atIndex: 4), inlineData: try row.decode(atIndex: 5))
        }
    }

    /// `date` as GRDB stores a `Date` ("yyyy-MM-dd HH:mm:ss.SSS", UTC, to the nearest
    /// millisecond, as its `DateFormatter` rounds), without `DateFormatter`.
    ///
    /// Why: GRDB formats every `Date` argument with one shared, locked `DateFormatter`
    /// (ICU); an open passed five, about 4% of its CPU and a point of contention between
    /// threads. A test checks this equals `date.databaseValue` over many dates.
    static func storageString(_ date: Date) -> String {
        let udate = (date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate) * 1000
        // Dates before 1970 (none the vault writes) take GRDB's path: ICU rounds those differently.
        guard udate.isFinite, udate >= 0, udate < 1e15 else { return storageDateFallback(date) }
        let totalMilliseconds = Int64(udate.rounded(.toNearestOrAwayFromZero))
        var seconds = totalMilliseconds / 1000
        var milliseconds = Int(totalMilliseconds % 1000)
        if milliseconds < 0 {
            milliseconds += 1000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        guard year <= 9999 else { return storageDateFallback(date) }
        var bytes = [UInt8](repeating: 0, count: 23)
        func put(_ value: Int, _ at: Int, _ width: Int) {
            var value = value
            for index in stride(from: at + width - 1, through: at, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(year, 0, 4)
        bytes[4] = 45
        put(month, 5, 2)
        bytes[7] = 45
        put(day, 8, 2)
        bytes[10] = 32
        put(secondOfDay / 3600, 11, 2)
        bytes[13] = 58
        put(secondOfDay / 60 % 60, 14, 2)
        bytes[16] = 58
        put(secondOfDay % 60, 17, 2)
        bytes[19] = 46
        put(milliseconds, 20, 3)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// GRDB's own text for a date before 1970 or after 9999.
    private static func storageDateFallback(_ date: Date) -> String {
        String.fromDatabaseValue(date.databaseValue) ?? ""
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
    /// views are used up. Opens that arrive together share one transaction
    /// (`AccessWriteBatcher`); this returns after the one holding this open committed.
    public func recordOpen(grantID: Int64, tokenHash: [UInt8], maxViews: Int?, at: Date) async throws -> Bool {
        try await accessWrites.submit(.open(grantID: grantID, tokenHash: Data(tokenHash), maxViews: maxViews, at: at))
    }

    /// Appends one entry to the access log, in the next shared transaction (`AccessWriteBatcher`).
    public func recordAccess(grantID: Int64?, tokenHash: [UInt8], at: Date, result: AccessEventRecord.Result)
        async throws
    {
        _ = try await accessWrites.submit(.access(grantID: grantID, tokenHash: Data(tokenHash), at: at, result: result))
    }

    /// One `access_events` row, through a cached statement.
    static func insertAccessEvent(
        _ db: Database, grantID: Int64?, tokenHash: Data, at: Date, result: AccessEventRecord.Result
    ) throws {
        try insertAccessEvent(db, grantID: grantID, tokenHash: tokenHash, at: storageString(at), result: result)
    }

    /// One `access_events` row, through a cached statement; `at` is `storageString(_:)` of its time.
    static func insertAccessEvent(
        _ db: Database, grantID: Int64?, tokenHash: Data, at: String, result: AccessEventRecord.Result
    ) throws {
        let insert = try db.cachedStatement(
            sql: "INSERT INTO access_events (grant_id, token_hash, at, result) VALUES (?, ?, ?, ?)")
        try insert.execute(arguments: [grantID, tokenHash, at, result.rawValue])
    }
}
