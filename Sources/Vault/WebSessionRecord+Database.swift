import Foundation
import GRDB
import VaultContract

/// `WebSessionRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension WebSessionRecord: FetchableRecord, PersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "web_sessions"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// The table's columns.
    public enum Columns {
        /// The `idHash` column.
        public static let idHash = Column("id_hash")
        /// The `sender` column.
        public static let sender = Column("sender")
        /// The `lastSeenAt` column.
        public static let lastSeenAt = Column("last_seen_at")
    }
}
