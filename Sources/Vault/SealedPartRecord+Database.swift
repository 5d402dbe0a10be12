import Foundation
import GRDB
import VaultContract

/// `SealedPartRecord`'s rows in the SQLite vault (GRDB), kept out of the backend-neutral type.
extension SealedPartRecord: FetchableRecord, PersistableRecord {
    /// The table the rows are in.
    public static let databaseTableName = "sealed_parts"
    /// Columns are snake_case.
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    /// Columns are snake_case.
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}
