import Foundation
import GRDB
import Logging
import PostgresNIO
import PostgresVault
import RetractTestSupport
import Testing
import Vault

/// The PostgreSQL vault's frozen migrations, on a real cluster.
@Suite("PostgreSQL vault migrations")
struct PostgresMigrationsTests {
    static let logger = Logger(label: "retract.tests.postgres")

    @Test("An empty database gets every table, index and constraint, and one schema_migrations row per migration")
    func migratesEmptyDatabase() async throws {
        try await PostgresInstance.withInstance { instance in
            let applied = try await Self.withConnection(instance) {
                try await PostgresMigrations.vault.migrate($0, logger: Self.logger)
            }
            #expect(applied == PostgresMigrations.vault.migrations.map(\.name))
            #expect(applied.first == "v1-vault" && applied.last == "v11-inline-parts")

            let tables = try instance.psql(
                "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public';",
                database: "retract")
            #expect(
                tables
                    == "access_events,grants,manage_links,messages,outbox,rate_limit_events,schema_migrations,"
                    + "sealed_chunks,sealed_parts,senders,verification_codes,web_sessions")
            let partial = try instance.psql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'access_events_prunable';", database: "retract")
            #expect(partial.contains("WHERE (result <> ALL (ARRAY['opened'::text, 'attachment'::text]))"))
            let owner = try instance.psql(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public';", database: "retract")
            #expect(owner == "retract")
        }
    }

    @Test("Migrating twice is a no-op: nothing applied, the history unchanged")
    func migratingTwiceIsNoOp() async throws {
        try await PostgresInstance.withInstance { instance in
            let history =
                "SELECT string_agg(name || '@' || position || '@' || applied_at, ',' ORDER BY position) FROM schema_migrations;"
            try await Self.withConnection(instance) { connection in
                try await PostgresMigrations.vault.migrate(connection, logger: Self.logger)
                let before = try instance.psql(history, database: "retract")
                let second = try await PostgresMigrations.vault.migrate(connection, logger: Self.logger)
                #expect(second.isEmpty)
                #expect(try instance.psql(history, database: "retract") == before)
                #expect(
                    try await PostgresMigrations.vault.appliedMigrations(connection, logger: Self.logger)
                        == PostgresMigrations.vault.migrations.map(\.name))
            }
        }
    }

    @Test("Two nodes migrating at once: each migration is applied exactly once, neither fails")
    func concurrentMigratorsDoNotConflict() async throws {
        try await PostgresInstance.withInstance { instance in
            try await Self.withConnection(instance) { first in
                try await Self.withConnection(instance) { second in
                    async let a = PostgresMigrations.vault.migrate(first, logger: Self.logger)
                    async let b = PostgresMigrations.vault.migrate(second, logger: Self.logger)
                    let (appliedByA, appliedByB) = try await (a, b)
                    #expect(Set(appliedByA).isDisjoint(with: appliedByB))
                    #expect(Set(appliedByA + appliedByB) == Set(PostgresMigrations.vault.migrations.map(\.name)))
                }
            }
            #expect(try instance.psql("SELECT count(*) FROM schema_migrations;", database: "retract") == "11")
        }
    }

    @Test("A schema newer than the binary is refused before anything changes, naming the unknown migration")
    func newerSchemaIsRefused() async throws {
        try await PostgresInstance.withInstance { instance in
            try await Self.withConnection(instance) { connection in
                try await PostgresMigrations.vault.migrate(connection, logger: Self.logger)
                let older = PostgresMigrations(Array(PostgresMigrations.vault.migrations.dropLast()))
                await #expect {
                    try await older.migrate(connection, logger: Self.logger)
                } throws: { error in
                    "\(error)".contains("newer than this binary (it has v11-inline-parts)")
                }
            }
        }
    }

    @Test("A shipped migration edited after it ran is refused")
    func editedMigrationIsRefused() async throws {
        try await PostgresInstance.withInstance { instance in
            try await Self.withConnection(instance) { connection in
                try await PostgresMigrations.vault.migrate(connection, logger: Self.logger)
                var edited = PostgresMigrations.vault.migrations
                edited[8] = PostgresMigration(edited[8].name, ["ALTER TABLE messages ADD COLUMN origin varchar(40)"])
                await #expect {
                    try await PostgresMigrations(edited).migrate(connection, logger: Self.logger)
                } throws: { error in
                    "\(error)".hasPrefix("migration v9-gateway in this binary differs")
                }
            }
        }
    }

    @Test("A failing migration leaves nothing half-applied and says what the server said")
    func failingMigrationRollsBack() async throws {
        try await PostgresInstance.withInstance { instance in
            try await Self.withConnection(instance) { connection in
                let broken = PostgresMigrations([
                    PostgresMigration("v1-a", ["CREATE TABLE a (id bigint)"]),
                    PostgresMigration("v2-b", ["CREATE TABLE b (id bigint)", "CREATE TABLE a (id bigint)"]),
                ])
                await #expect {
                    try await broken.migrate(connection, logger: Self.logger)
                } throws: { error in
                    "\(error)" == "migration v2-b failed: relation \"a\" already exists (SQLSTATE 42P07)"
                }
            }
            #expect(try instance.psql("SELECT to_regclass('b') IS NULL;", database: "retract") == "t")
            #expect(
                try instance.psql("SELECT string_agg(name, ',') FROM schema_migrations;", database: "retract") == "v1-a"
            )
        }
    }

    @Test("The schema keeps SQLite's rules: key material both or neither, cascades, the partial index's rows")
    func constraintsHold() async throws {
        try await PostgresInstance.withInstance { instance in
            try await Self.withConnection(instance) {
                try await PostgresMigrations.vault.migrate($0, logger: Self.logger)
            }
            try instance.psql(
                """
                INSERT INTO messages (id, sender, sealed_subject, subject_kid, locale, created_at, deliver_after, part_count)
                VALUES ('m1', 'a@example.org', '\\x00', 'k1', 'en', now(), now(), 1);
                INSERT INTO sealed_parts VALUES ('m1', 0, '\\x01', 1, 5);
                INSERT INTO sealed_chunks VALUES ('m1', 0, 0, '\\x0203');
                INSERT INTO grants (message_id, token_hash, recipient, kind, sealed_share, wrapped_dek, notification_message_id)
                VALUES ('m1', '\\x0a', 'b@example.org', 'to', '\\x0b', '\\x0c', '<n@example.org>');
                """, database: "retract")
            #expect(throws: PostgresInstanceError.self) {
                try instance.psql("UPDATE grants SET revoked_at = now();", database: "retract")
            }
            #expect(throws: PostgresInstanceError.self) {
                try instance.psql("UPDATE messages SET part_count = 0;", database: "retract")
            }
            #expect(throws: PostgresInstanceError.self) {
                try instance.psql(
                    """
                    INSERT INTO grants (message_id, token_hash, recipient, kind, sealed_share, wrapped_dek, notification_message_id)
                    VALUES ('m1', '\\x0a', 'c@example.org', 'cc', '\\x0b', '\\x0c', '<n2@example.org>');
                    """, database: "retract")
            }
            try instance.psql(
                "UPDATE grants SET revoked_at = now(), sealed_share = NULL, wrapped_dek = NULL; DELETE FROM messages;",
                database: "retract")
            #expect(
                try instance.psql(
                    "SELECT (SELECT count(*) FROM grants) + (SELECT count(*) FROM sealed_parts) + (SELECT count(*) FROM sealed_chunks);",
                    database: "retract") == "0")
        }
    }

    @Test("PostgreSQL has SQLite's tables, columns and indexes (and the parts' chunk rows SQLite keeps in files)")
    func mirrorsSQLiteSchema() async throws {
        // SQLite: the real vault's migrations on an in-memory database.
        let queue = try DatabaseQueue()
        _ = try VaultDatabase(queue)
        let sqlite = try await queue.read { db in
            var columns: Set<String> = []
            var indexes: Set<String> = []
            let tables = try String.fetchAll(
                db,
                sql:
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'"
            )
            for table in tables {
                for column in try db.columns(in: table) { columns.insert("\(table).\(column.name)") }
                for index in try db.indexes(on: table) where !index.name.hasPrefix("sqlite_autoindex") {
                    indexes.insert(index.name)
                }
            }
            return (columns, indexes)
        }
        try await PostgresInstance.withInstance { instance in
            try await Self.withConnection(instance) {
                try await PostgresMigrations.vault.migrate($0, logger: Self.logger)
            }
            let columns = Set(
                try instance.psql(
                    """
                    SELECT table_name || '.' || column_name FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name NOT IN ('schema_migrations', 'sealed_chunks');
                    """, database: "retract"
                ).split(separator: "\n").map(String.init))
            let indexes = Set(
                try instance.psql(
                    """
                    SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
                    AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'
                    AND tablename NOT IN ('schema_migrations', 'sealed_chunks');
                    """, database: "retract"
                ).split(separator: "\n").map(String.init))
            #expect(columns == sqlite.0)
            #expect(indexes == sqlite.1)
        }
    }

    /// Opens one connection with the instance's URL and closes it afterwards.
    static func withConnection<T>(_ instance: PostgresInstance, _ body: (PostgresConnection) async throws -> T)
        async throws -> T
    {
        let configuration = try DatabaseURL(instance.url).connectionConfiguration()
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
