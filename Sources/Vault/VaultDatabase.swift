import Foundation
import GRDB

/// The vault's database: owns the connection, runs the migrations, and offers only
/// intention-named operations that keep the vault's invariants.
///
/// Opened as a WAL `DatabasePool` on `<data-dir>/vault.sqlite` with `secure_delete` on, so
/// deleted key material is overwritten in the file rather than left in free pages.
public struct VaultDatabase: Sendable {
    /// The connection; reads go through `reader`, writes through the intention-named methods.
    let writer: any DatabaseWriter

    /// The file name of the vault inside the data directory.
    public static let fileName = "vault.sqlite"

    /// Wraps an open connection and brings its schema up to date.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Opens (creating if needed) the vault in `directory`.
    public static func open(directory: URL) throws -> VaultDatabase {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw VaultError.dataDirectoryUnusable(directory.path, reason: error.localizedDescription)
        }
        let pool = try DatabasePool(path: directory.appendingPathComponent(fileName).path, configuration: configuration)
        return try VaultDatabase(pool)
    }

    /// An in-memory vault for unit tests.
    public static func inMemory() throws -> VaultDatabase {
        try VaultDatabase(DatabaseQueue(configuration: configuration))
    }

    /// The connection settings every vault uses.
    static var configuration: Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return config
    }

    /// A read-only view for queries.
    public var reader: any DatabaseReader { writer }

    /// The path of the database file, nil in memory.
    public var path: String? {
        writer.path == ":memory:" || writer.path.isEmpty ? nil : writer.path
    }

    /// Moves every WAL frame into the database file and truncates the WAL.
    ///
    /// Run after a revocation commits, so destroyed key material is not left in old WAL
    /// frames.
    public func checkpointTruncating() throws {
        guard writer is DatabasePool else { return }
        try writer.writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
        }
    }
}
