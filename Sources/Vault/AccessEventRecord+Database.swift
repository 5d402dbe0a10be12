import Foundation
import GRDB
import VaultContract

/// `AccessEventRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension AccessEventRecord: FetchableRecord, MutablePersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "access_events"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Column names for queries.
    public enum Columns {
        public static let grantId = Column("grant_id")
        public static let tokenHash = Column("token_hash")
        public static let at = Column("at")
        public static let result = Column("result")
    }

    /// Keeps the row id SQLite gave the new row.
    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
