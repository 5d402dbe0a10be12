import Foundation
import GRDB
import VaultContract

/// `SenderRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension SenderRecord: FetchableRecord, PersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "senders"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// The table's columns.
    public enum Columns {
        /// The `address` column.
        public static let address = Column("address")
        /// The `tokenHash` column.
        public static let tokenHash = Column("token_hash")
        /// The `createdAt` column.
        public static let createdAt = Column("created_at")
    }
}
