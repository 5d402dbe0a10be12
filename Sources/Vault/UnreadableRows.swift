import Foundation
import GRDB
import Logging
import Synchronization

/// Decodes vault rows through throwing paths only; a row that a list leaves out is logged
/// once per process, by table and key, never by content.
///
/// Why: GRDB's non-throwing subscript (`row["expires_at"] as Date`) traps on a value it
/// cannot convert, so one bad row (an empty date, an unknown enum value, written by an old
/// bug or by hand) used to end the process on every read of it. Now such a row is a
/// `VaultError.unreadableRow` for the one read that needs it, and a list leaves it out.
enum UnreadableRows {
    private static let logger = Logger(label: "retract.vault")
    private static let reported = Mutex<Set<String>>([])

    /// The row decoded by `decode`; any failure becomes `VaultError.unreadableRow`, which
    /// names the row to whoever asked (not logged here: the caller shows or logs the error).
    static func decode<T>(_ row: Row, table: String, _ decode: (Row) throws -> T) throws(VaultError) -> T {
        do {
            return try decode(row)
        } catch {
            throw VaultError.unreadableRow(table: table, key: self.key(of: row))
        }
    }

    /// Every row `decode` can read, in order, and the keys of those it could not (each
    /// reported once); the caller decides what a skipped row means.
    static func decodeEach<T>(_ rows: [Row], table: String, _ decode: (Row) throws -> T) -> (
        values: [T], unreadable: [String]
    ) {
        var values: [T] = []
        var unreadable: [String] = []
        values.reserveCapacity(rows.count)
        for row in rows {
            do {
                values.append(try decode(row))
            } catch {
                let key = self.key(of: row)
                report(table: table, key: key, error: error)
                unreadable.append(key)
            }
        }
        return (values, unreadable)
    }

    /// A stored value that is not one of its enum's cases.
    struct UnknownValue: Error {
        /// The column that holds it.
        var column: String
    }

    /// The enum case stored at `index`; `UnknownValue` when the text names none.
    static func enumValue<E: RawRepresentable>(_ row: Row, atIndex index: Int) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: try row.decode(atIndex: index)) else {
            throw UnknownValue(column: Array(row.columnNames)[index])
        }
        return value
    }

    /// The enum case stored in `column`; `UnknownValue` when the text names none.
    static func enumValue<E: RawRepresentable>(_ row: Row, column: String) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: try row.decode(forColumn: column)) else { throw UnknownValue(column: column) }
        return value
    }

    /// The row's key for the log and the error: `id`, `address` or `grant_id`, whichever
    /// it has; `?` when none is readable. Blob keys (hashes) are not shown.
    static func key(of row: Row) -> String {
        for column in ["id", "address", "grant_id"] where row.hasColumn(column) {
            // A `DatabaseValue` read never traps: it is the stored value as it is.
            switch (row[column] as DatabaseValue).storage {
            case .string(let text): return String(text.prefix(80))
            case .int64(let number): return String(number)
            default: continue
            }
        }
        return "?"
    }

    /// Logs a row once per process: the table, the key and the decoding error's kind.
    private static func report(table: String, key: String, error: any Error) {
        let first = reported.withLock { $0.insert("\(table)/\(key)").inserted }
        guard first else { return }
        let reason =
            switch error {
            case let unknown as UnknownValue: "\(unknown.column) holds no known value"
            case is RowDecodingError: "a value does not decode"
            default: String(describing: type(of: error))
            }
        logger.error(
            "vault row cannot be read; it is left out until repaired",
            metadata: ["table": "\(table)", "row": "\(key)", "reason": "\(reason)"])
    }
}
