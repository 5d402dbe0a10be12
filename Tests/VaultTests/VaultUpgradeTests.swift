import Foundation
import GRDB
import Testing

@testable import Vault

/// Issue 16, item 5: an upgrade keeps the vault, and a vault from a newer version is refused.
@Suite("Vault upgrades")
struct VaultUpgradeTests {
    static let messageID = "00112233445566778899aabbccddeeff"

    func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("retract-upgrade-\(UUID().uuidString)")
    }

    /// A vault file in `directory` whose schema stops at `lastMigration`, as an older
    /// release left it, holding one message.
    func olderVault(in directory: URL, upTo lastMigration: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let parts = try SealedPartStore(directory: directory.appendingPathComponent(SealedPartStore.directoryName))
        let pool = try DatabasePool(path: directory.appendingPathComponent(VaultDatabase.fileName).path)
        try VaultDatabase.migrator(parts: parts).migrate(pool, upTo: lastMigration)
        try pool.write { db in
            try MessageRecord(
                id: Self.messageID, sender: "alice@corp.test", senderName: nil, sealedSubject: Data([1, 2, 3]),
                subjectKid: "k", locale: "en", createdAt: Date(), expiresAt: nil, maxViews: nil,
                deliverAfter: Date(), partCount: 1
            ).insert(db)
        }
        try pool.close()
    }

    func appliedCount(_ vault: VaultDatabase, _ migration: String) throws -> Int {
        try vault.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations WHERE identifier = ?", arguments: [migration])
                ?? 0
        }
    }

    @Test("a vault at the previous schema opens, keeps its message, and its new migration runs once")
    func previousSchemaUpgradesOnce() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Given a vault left by the release before v11-inline-parts
        try olderVault(in: directory, upTo: "v10-manage-links")

        // When this version opens it, twice
        let first = try VaultDatabase.open(directory: directory)
        #expect(try first.message(id: Self.messageID)?.sender == "alice@corp.test")
        #expect(try appliedCount(first, "v11-inline-parts") == 1)
        let second = try VaultDatabase.open(directory: directory)

        // Then the message is still there and the migration ran once
        #expect(try second.message(id: Self.messageID)?.sender == "alice@corp.test")
        #expect(try appliedCount(second, "v11-inline-parts") == 1)
        let columns = try second.reader.read { db in try db.columns(in: "sealed_parts").map(\.name) }
        #expect(columns.contains("inline_data"))
    }

    @Test("a vault migrated by a newer version is refused in one line that names the unknown migration, and is left unchanged")
    func newerSchemaIsRefused() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Given a vault that a newer Retract migrated further
        do {
            let vault = try VaultDatabase.open(directory: directory)
            try vault.writer.write { db in
                try db.execute(
                    sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: ["v99-from-the-future"])
            }
        }

        // When this version opens it
        let error = #expect(throws: VaultError.self) { try VaultDatabase.open(directory: directory) }

        // Then it says so in one line, naming the migration and what to do
        let text = error?.description ?? ""
        #expect(error == VaultError.schemaNewer("", unknownMigrations: []))
        #expect(text.contains("v99-from-the-future"))
        #expect(text.contains("newer Retract"))
        #expect(!text.contains("\n"))
        // And nothing was changed: the unknown migration is still recorded, nothing removed
        let pool = try DatabaseQueue(path: directory.appendingPathComponent(VaultDatabase.fileName).path)
        let identifiers = try pool.read { db in try String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(identifiers.contains("v99-from-the-future"))
        #expect(identifiers.contains("v11-inline-parts"))
    }
}
