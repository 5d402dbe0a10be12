import Foundation
import GRDB
import VaultContract

/// `MessageRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension MessageRecord: FetchableRecord, PersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "messages"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Column names for queries.
    public enum Columns {
        public static let id = Column("id")
        public static let createdAt = Column("created_at")
        public static let sender = Column("sender")
    }
}
