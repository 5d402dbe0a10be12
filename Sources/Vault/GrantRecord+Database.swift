import Foundation
import GRDB
import VaultContract

/// `GrantRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension GrantRecord: FetchableRecord, MutablePersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "grants"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Column names for queries.
    public enum Columns {
        public static let id = Column("id")
        public static let messageId = Column("message_id")
        public static let tokenHash = Column("token_hash")
        public static let recipient = Column("recipient")
    }

    /// Keeps the row id SQLite gave the new row.
    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
