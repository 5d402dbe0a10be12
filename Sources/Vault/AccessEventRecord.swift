import Foundation
import GRDB

/// One attempt to open a link, successful or not: the access log the sender reads.
public struct AccessEventRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "access_events"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// What came of the attempt.
    public enum Result: String, Codable, Sendable {
        case opened
        case attachment
        case invalidKey = "invalid_key"
        case revoked
        case expired
        case viewsExhausted = "views_exhausted"
        case tooManyAttempts = "too_many_attempts"
        /// The right key with a wrong or expired verification code.
        case invalidCode = "invalid_code"
    }

    /// Row id, set on insert.
    public var id: Int64?
    /// The grant, or nil when the token matched none.
    public var grantId: Int64?
    /// Hash of the token that was tried (rate limits count by it).
    public var tokenHash: Data
    /// When.
    public var at: Date
    /// The outcome.
    public var result: Result

    /// Column names for queries.
    public enum Columns {
        public static let grantId = Column("grant_id")
        public static let tokenHash = Column("token_hash")
        public static let at = Column(CodingKeys.at)
        public static let result = Column(CodingKeys.result)
    }

    /// Creates an event.
    public init(grantId: Int64?, tokenHash: Data, at: Date, result: Result) {
        self.grantId = grantId
        self.tokenHash = tokenHash
        self.at = at
        self.result = result
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
