import Foundation
import GRDB
import VaultContract

/// `OutboxMailRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension OutboxMailRecord: FetchableRecord, PersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "outbox"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Column names for queries.
    public enum Columns {
        public static let id = Column("id")
        public static let messageId = Column("message_id")
        public static let grantId = Column("grant_id")
        public static let state = Column("state")
        public static let notBefore = Column("not_before")
        public static let createdAt = Column("created_at")
    }

    /// Reads a row column by column, without `Decodable`: the outbox worker decodes every
    /// mail it claims, and the generic decoder (snake-case key conversion, a keyed container
    /// per row) cost more than the SQL.
    public init(row: Row) throws {
        // GRDB's throwing `decode`, never the subscript, which traps on a value it cannot
        // convert (an empty `not_before` once stopped the worker on every start).
        self.init(
            id: try row.decode(forColumn: "id"), messageId: try row.decode(forColumn: "message_id"),
            grantId: try row.decode(forColumn: "grant_id"), kind: try UnreadableRows.enumValue(row, column: "kind"),
            mailFrom: try row.decode(forColumn: "mail_from"), recipient: try row.decode(forColumn: "recipient"),
            rfcMessageId: try row.decode(forColumn: "rfc_message_id"), sealedData: Data(),
            dataKid: try row.decode(forColumn: "data_kid"), notBefore: try row.decode(forColumn: "not_before"),
            createdAt: try row.decode(forColumn: "created_at"))
        self.sealedData = try row.decode(forColumn: "sealed_data")
        self.state = try UnreadableRows.enumValue(row, column: "state")
        self.attempts = try row.decode(forColumn: "attempts")
        self.sentAt = try row.decode(forColumn: "sent_at")
        self.lastError = try row.decode(forColumn: "last_error")
        self.claimedAt = try row.decode(forColumn: "claimed_at")
        self.lastReply = try row.decode(forColumn: "last_reply")
    }
}
