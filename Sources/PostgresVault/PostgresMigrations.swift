import Logging
import PostgresNIO

/// Brings a PostgreSQL database's schema up to date with a list of frozen migrations, safely
/// when several nodes start at once.
///
/// Each migration runs in its own transaction together with its row in `schema_migrations`
/// (name, position, checksum, time), so a migration is applied entirely or not at all. Every
/// transaction first takes the transaction-level advisory lock `advisoryLockKey`: a second
/// node starting at the same moment waits for the first one's migration to commit, then sees
/// it applied and skips it. Before applying anything the migrator checks what the database
/// already ran: a name this binary does not know means a newer Retract migrated it (refused:
/// running an older binary on a newer schema would lose data silently), and a known name with
/// another checksum means a shipped migration was edited (refused as well).
public struct PostgresMigrations: Sendable {
    /// The advisory lock every migration transaction holds: "retract" and 1 as a bigint, so it
    /// does not collide with another application's locks in a shared database.
    public static let advisoryLockKey: Int64 = 0x7265_7472_6163_7401

    /// The migrations, in the order they apply.
    public let migrations: [PostgresMigration]

    /// A migrator for `migrations` (names unique, in order).
    public init(_ migrations: [PostgresMigration]) {
        precondition(Set(migrations.map(\.name)).count == migrations.count, "migration names must be unique")
        self.migrations = migrations
    }

    /// Applies the migrations the database has not run yet; returns their names (empty when it
    /// was up to date). Throws without applying anything when the database's history does not
    /// match this list (newer schema, edited migration).
    @discardableResult
    public func migrate(_ connection: PostgresConnection, logger: Logger) async throws(PostgresMigrationError)
        -> [String]
    {
        let alreadyApplied = try await transaction(connection, step: "reading schema_migrations", logger: logger) {
            try await Self.lockAndCreateTable(connection, logger: logger)
            return try await Self.appliedRows(connection, logger: logger)
        }
        try check(alreadyApplied)
        var appliedNow: [String] = []
        for (position, migration) in migrations.enumerated().dropFirst(alreadyApplied.count) {
            let applied = try await transaction(connection, step: "migration \(migration.name)", logger: logger) {
                try await Self.lockAndCreateTable(connection, logger: logger)
                // Another node may have applied it between our transactions.
                let rows = try await Self.appliedRows(connection, logger: logger)
                if rows.contains(where: { $0.name == migration.name }) { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO schema_migrations (name, position, checksum)
                    VALUES (\(migration.name), \(position + 1), \(migration.checksum))
                    """, logger: logger)
                return true
            }
            if applied {
                appliedNow.append(migration.name)
                logger.info("vault schema migrated", metadata: ["migration": "\(migration.name)"])
            }
        }
        // What other nodes applied meanwhile is checked as well (it is this same list).
        try check(
            try await transaction(connection, step: "reading schema_migrations", logger: logger) {
                try await Self.appliedRows(connection, logger: logger)
            })
        return appliedNow
    }

    /// The names of the migrations the database has run, in order (empty for a new database).
    public func appliedMigrations(_ connection: PostgresConnection, logger: Logger)
        async throws(PostgresMigrationError) -> [String]
    {
        try await transaction(connection, step: "reading schema_migrations", logger: logger) {
            let exists =
                try await connection.query(
                    "SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger
                ).collect().first?.decode(Bool.self) ?? false
            guard exists else { return [] }
            return try await Self.appliedRows(connection, logger: logger).map(\.name)
        }
    }

    // MARK: Steps

    private struct AppliedRow: Sendable {
        let name: String
        let checksum: String
    }

    /// The database's history must be a prefix of this list, with the same checksums.
    private func check(_ rows: [AppliedRow]) throws(PostgresMigrationError) {
        let known = Set(migrations.map(\.name))
        let unknown = rows.map(\.name).filter { !known.contains($0) }
        guard unknown.isEmpty else { throw .schemaNewer(unknown) }
        for (row, migration) in zip(rows, migrations) {
            guard row.name == migration.name else { throw .outOfOrder(row.name, expected: migration.name) }
            guard row.checksum == migration.checksum else { throw .edited(row.name) }
        }
    }

    private static func lockAndCreateTable(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(advisoryLockKey))", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name text PRIMARY KEY,
                position integer NOT NULL UNIQUE CHECK (position >= 1),
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
    }

    private static func appliedRows(_ connection: PostgresConnection, logger: Logger) async throws -> [AppliedRow] {
        var rows: [AppliedRow] = []
        let sequence = try await connection.query(
            "SELECT name, checksum FROM schema_migrations ORDER BY position", logger: logger)
        for try await (name, checksum) in sequence.decode((String, String).self) {
            rows.append(AppliedRow(name: name, checksum: checksum))
        }
        return rows
    }

    /// Runs `body` between BEGIN and COMMIT (ROLLBACK when it throws), errors as one line.
    private func transaction<T>(
        _ connection: PostgresConnection, step: String, logger: Logger, _ body: () async throws -> T
    ) async throws(PostgresMigrationError) -> T {
        do {
            try await connection.query("BEGIN", logger: logger)
        } catch {
            throw .failed(step, error)
        }
        do {
            let result = try await body()
            try await connection.query("COMMIT", logger: logger)
            return result
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            if let error = error as? PostgresMigrationError { throw error }
            throw .failed(step, error)
        }
    }
}
