import Foundation
import GRDB

/// Key rotation's operations: which keys the vault refers to, the values sealed under
/// other keys than the active one, in batches, and their replacement in short write
/// transactions that never overwrite a row changed meanwhile (a revoke, a delivery).
///
/// The crypto stays in `RetractCore`; these only read and write sealed bytes, so the
/// PostgreSQL backend offers the same three operations with the same meaning.
extension VaultDatabase {
    /// For each key id the vault refers to in a live value, how many such values it seals;
    /// sorted by kid.
    public func keyUsage() throws -> [KeyUsage] {
        try writer.read { db in
            var usage: [String: KeyUsage] = [:]
            func add(_ sql: String, _ path: WritableKeyPath<KeyUsage, Int>) throws {
                for row in try Row.fetchAll(db, sql: sql) {
                    let kid: String = row[0]
                    let count: Int = row[1]
                    usage[kid, default: KeyUsage(kid: kid)][keyPath: path] += count
                }
            }
            try add(
                "SELECT share_kid, count(*) FROM grants WHERE sealed_share IS NOT NULL AND share_kid IS NOT NULL GROUP BY share_kid",
                \.shares)
            try add("SELECT subject_kid, count(*) FROM messages GROUP BY subject_kid", \.subjects)
            try add(
                "SELECT data_kid, count(*) FROM outbox WHERE sealed_data IS NOT NULL GROUP BY data_kid", \.outboxData)
            return usage.values.sorted { $0.kid < $1.kid }
        }
    }

    /// Up to `limit` live values of `kind` sealed under any key but `kid`, in row order,
    /// starting after the row `after` (nil: from the first). Rows come in a fixed order so
    /// a pass ends even when some values cannot be re-sealed.
    public func sealedValues(_ kind: SealedValue.Kind, notUnder kid: String, after: String?, limit: Int)
        throws -> [SealedValue]
    {
        try writer.read { db in
            switch kind {
            case .share:
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, share_kid, sealed_share, token_hash FROM grants
                        WHERE id > ? AND sealed_share IS NOT NULL AND share_kid IS NOT ?
                        ORDER BY id LIMIT ?
                        """,
                    arguments: [after.flatMap { Int64($0) } ?? 0, kid, limit])
                return rows.map { row in
                    let id: Int64 = row[0]
                    return SealedValue(
                        kind: .share, rowID: String(id), kid: row[1] ?? "", sealed: row[2], tokenHash: row[3])
                }
            case .subject:
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, subject_kid, sealed_subject FROM messages
                        WHERE id > ? AND subject_kid IS NOT ? ORDER BY id LIMIT ?
                        """,
                    arguments: [after ?? "", kid, limit])
                return rows.map { SealedValue(kind: .subject, rowID: $0[0], kid: $0[1], sealed: $0[2]) }
            case .outboxData:
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, data_kid, sealed_data FROM outbox
                        WHERE id > ? AND sealed_data IS NOT NULL AND data_kid IS NOT ? ORDER BY id LIMIT ?
                        """,
                    arguments: [after ?? "", kid, limit])
                return rows.map { SealedValue(kind: .outboxData, rowID: $0[0], kid: $0[1], sealed: $0[2]) }
            }
        }
    }

    /// Writes each replacement whose row still holds the original value under the original
    /// kid, in one write transaction; returns how many were written. A row revoked,
    /// delivered or re-sealed meanwhile is left as it is (the next pass sees it again if it
    /// still needs re-sealing).
    @discardableResult
    public func replaceSealedValues(_ replacements: [SealedValue.Replacement]) throws -> Int {
        guard !replacements.isEmpty else { return 0 }
        return try writer.write { db in
            var written = 0
            for replacement in replacements {
                let original = replacement.original
                let arguments: StatementArguments = [
                    replacement.kid, replacement.sealed, original.rowID, original.kid, original.sealed,
                ]
                switch original.kind {
                case .share:
                    guard let id = Int64(original.rowID) else { continue }
                    try db.execute(
                        sql: """
                            UPDATE grants SET share_kid = ?, sealed_share = ?
                            WHERE id = ? AND share_kid = ? AND sealed_share = ?
                            """,
                        arguments: [replacement.kid, replacement.sealed, id, original.kid, original.sealed])
                case .subject:
                    try db.execute(
                        sql: """
                            UPDATE messages SET subject_kid = ?, sealed_subject = ?
                            WHERE id = ? AND subject_kid = ? AND sealed_subject = ?
                            """,
                        arguments: arguments)
                case .outboxData:
                    try db.execute(
                        sql: """
                            UPDATE outbox SET data_kid = ?, sealed_data = ?
                            WHERE id = ? AND data_kid = ? AND sealed_data = ?
                            """,
                        arguments: arguments)
                }
                written += db.changesCount
            }
            return written
        }
    }
}
