import Foundation
import GRDB
import VaultContract

/// `VerificationCodeRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension VerificationCodeRecord: FetchableRecord, PersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "verification_codes"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Column names for queries.
    public enum Columns {
        /// The grant, the primary key.
        public static let grantId = Column("grant_id")
    }
}
