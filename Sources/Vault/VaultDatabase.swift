import Foundation
import GRDB
#if canImport(Glibc)
    import Glibc
#endif
import Logging
import Synchronization

/// The vault's database: owns the connection, runs the migrations, and offers only
/// intention-named operations that keep the vault's invariants.
///
/// Opened as a WAL `DatabasePool` on `<data-dir>/vault.sqlite` with `secure_delete` on, so
/// deleted key material is overwritten in the file rather than left in free pages. The
/// ciphertext of sealed parts lives beside it, one file per part (`SealedPartStore`).
public struct VaultDatabase: Sendable {
    /// The connection; reads go through `reader`, writes through the intention-named methods.
    let writer: any DatabaseWriter
    /// The part files (ciphertext chunks of sealed parts), one per `sealed_parts` row.
    public let parts: SealedPartStore
    /// A second connection to the same file that only runs checkpoints, so they never hold
    /// up a commit on `writer` (see `checkpointAside()`); nil for a vault in memory.
    let checkpointer: DatabaseQueue?
    /// Whether a revocation committed but its TRUNCATE checkpoint could not run yet (see
    /// `checkpointAfterRevocation()`); shared by every copy of this value.
    let owedCheckpoint: OwedCheckpoint
    /// The group commit of opens' view counts and access-log rows (`AccessWriteBatcher`);
    /// shared by every copy of this value.
    let accessWrites: AccessWriteBatcher

    /// SQLite's automatic checkpoint threshold (its default, in pages), restored after the
    /// outbox worker's commits, which turn it off.
    static let walAutocheckpointPages = 1000

    /// The file name of the vault inside the data directory.
    public static let fileName = "vault.sqlite"

    /// Wraps an open connection and brings its schema up to date; part files go to `parts`
    /// (a temporary directory, removed with the store, when nil).
    public init(_ writer: any DatabaseWriter, parts: SealedPartStore? = nil) throws {
        self.writer = writer
        self.checkpointer =
            writer is DatabasePool
            ? try DatabaseQueue(path: writer.path, configuration: Self.checkpointerConfiguration) : nil
        self.owedCheckpoint = OwedCheckpoint()
        self.accessWrites = AccessWriteBatcher(writer: writer)
        self.parts =
            try parts
            ?? SealedPartStore(
                directory: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "retract-parts-\(UUID().uuidString)"),
                isTemporary: true)
        let migrator = Self.migrator(parts: self.parts)
        let known = Set(migrator.migrations)
        let unknown = try writer.read { db in try migrator.appliedIdentifiers(db) }.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw VaultError.schemaNewer(writer.path, unknownMigrations: unknown.sorted())
        }
        try migrator.migrate(writer)
    }

    /// Opens (creating if needed) the vault in `directory`, its part files in
    /// `directory/parts`, and removes part files no row refers to (left by a crash).
    public static func open(directory: URL) throws -> VaultDatabase {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw VaultError.dataDirectoryUnusable(directory.path, reason: error.localizedDescription)
        }
        let parts = try SealedPartStore(directory: directory.appendingPathComponent(SealedPartStore.directoryName))
        let pool = try DatabasePool(path: directory.appendingPathComponent(fileName).path, configuration: configuration)
        let vault = try VaultDatabase(pool, parts: parts)
        try vault.removeOrphanPartFiles()
        return vault
    }

    /// An in-memory vault for unit tests (its part files in a temporary directory).
    public static func inMemory() throws -> VaultDatabase {
        try VaultDatabase(DatabaseQueue(configuration: configuration))
    }

    /// Removes part files that have no `sealed_parts` row; returns how many.
    ///
    /// Runs inside an IMMEDIATE transaction: a send creates its files inside its write
    /// transaction, so holding the write lock means no other process is between creating
    /// a file and committing its row.
    @discardableResult
    public func removeOrphanPartFiles() throws -> Int {
        try writer.writeWithoutTransaction { db in
            var removed = 0
            try db.inTransaction(.immediate) {
                let rows = try Row.fetchAll(db, sql: "SELECT message_id, part_index FROM sealed_parts")
                let keep = Set(
                    try rows.map {
                        SealedPartStore.fileName(
                            messageID: try $0.decode(forColumn: "message_id"), part: try $0.decode(forColumn: "part_index"))
                    })
                removed = try parts.removeFiles(except: keep)
                return .commit
            }
            return removed
        }
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

    /// The checkpoint connection's settings: the vault's, with a short busy timeout, so one
    /// TRUNCATE attempt waits at most `checkpointBusyTimeout` for readers and writers.
    static var checkpointerConfiguration: Configuration {
        var config = configuration
        config.busyMode = .timeout(checkpointBusyTimeout)
        return config
    }

    /// How long one TRUNCATE attempt waits for readers and writers to leave the WAL.
    static let checkpointBusyTimeout: TimeInterval = 0.25
    /// How long `checkpointTruncating()` keeps trying in all before it gives up.
    static let checkpointPatience: TimeInterval = 2

    /// A read-only view for queries.
    public var reader: any DatabaseReader { writer }

    /// The path of the database file, nil in memory.
    public var path: String? {
        writer.path == ":memory:" || writer.path.isEmpty ? nil : writer.path
    }

    /// Makes every commit so far survive a power loss: `fdatasync` of the WAL file.
    ///
    /// The vault commits with SQLite's `synchronous = NORMAL` (GRDB's default for a pool):
    /// a commit survives a crash of the process, not of the machine, until the next
    /// checkpoint. Where a commit is a promise to someone else, the gateway's 250 after the
    /// final dot (RFC 5321 §6.1: the server takes responsibility for the mail), it calls
    /// this before answering, which is what `synchronous = FULL` would do at every commit;
    /// concurrent callers each sync, outside any lock. Nothing to do in memory or when the
    /// WAL file does not exist (nothing was written since the last truncation).
    public func syncCommittedWrites() throws {
        guard let path else { return }
        let wal = path + "-wal"
        let fd = Glibc.open(wal, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw VaultError.dataDirectoryUnusable(wal, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(fd) }
        guard fdatasync(fd) == 0 else {
            throw VaultError.dataDirectoryUnusable(wal, reason: "cannot fsync: \(String(cString: strerror(errno)))")
        }
    }

    /// Copies what it can of the WAL into the database file on the checkpoint connection,
    /// without waiting for, or holding up, readers and writers (a PASSIVE checkpoint).
    ///
    /// The outbox worker turns automatic checkpoints off for its own commits (they would run
    /// inside a commit on the SMTP connection's thread, a few milliseconds each, while the
    /// server waits) and calls this between batches on another thread instead.
    public func checkpointAside() throws {
        guard let checkpointer else { return }
        do {
            try checkpointer.writeWithoutTransaction { db in
                _ = try db.checkpoint(.passive)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            // Another connection is checkpointing right now; the WAL is in hand.
        }
    }

    /// Moves every WAL frame into the database file and truncates the WAL; throws the last
    /// SQLITE_BUSY when that could not be done within `checkpointPatience` (about 2 s).
    ///
    /// Runs on the checkpoint connection, so it waits for a `checkpointAside()` of this
    /// process instead of colliding with it. SQLite lets one checkpoint run at a time and
    /// answers a second one SQLITE_BUSY at once, and a TRUNCATE also waits (up to
    /// `checkpointBusyTimeout` per attempt) for readers still using the WAL; so it is tried
    /// again every 20 ms until the patience runs out. Bounded on purpose: a reader that holds
    /// its snapshot for minutes must not hold the caller's thread as long.
    public func checkpointTruncating() throws {
        guard let checkpointer else { return }
        let deadline = Date().addingTimeInterval(Self.checkpointPatience)
        while true {
            do {
                try checkpointer.writeWithoutTransaction { db in
                    _ = try db.checkpoint(.truncate)
                }
                return
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    /// The TRUNCATE checkpoint after a revocation committed: best effort, never an error.
    ///
    /// The revocation is done when it commits (its key material is gone from the database);
    /// the checkpoint only moves the old WAL frames that still hold it out of the WAL file.
    /// When it cannot run within its patience (a long reader, another process's checkpoint),
    /// that is logged and owed: `settleOwedCheckpoint()`, which the outbox worker calls on
    /// every pass, tries again. Returns whether the WAL was truncated.
    @discardableResult
    func checkpointAfterRevocation() -> Bool {
        do {
            try checkpointTruncating()
            owedCheckpoint.settle()
            return true
        } catch {
            owedCheckpoint.owe()
            Self.logger.warning(
                "the WAL could not be truncated after a revocation; it is retried on the next pass",
                metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Whether a revocation's TRUNCATE checkpoint is still owed.
    public var owesTruncatingCheckpoint: Bool { owedCheckpoint.isOwed }

    /// Runs an owed TRUNCATE checkpoint once, without waiting for readers beyond one
    /// attempt; returns whether none is owed afterwards.
    @discardableResult
    public func settleOwedCheckpoint() -> Bool {
        guard owedCheckpoint.isOwed, let checkpointer else { return true }
        do {
            try checkpointer.writeWithoutTransaction { db in
                _ = try db.checkpoint(.truncate)
            }
            owedCheckpoint.settle()
            Self.logger.info("the owed WAL checkpoint ran")
            return true
        } catch {
            return false
        }
    }

    static let logger = Logger(label: "retract.vault")
}

/// A flag shared by the copies of one `VaultDatabase`: a revocation's checkpoint is owed.
final class OwedCheckpoint: Sendable {
    private let owed = Atomic(false)

    var isOwed: Bool { owed.load(ordering: .acquiring) }
    func owe() { owed.store(true, ordering: .releasing) }
    func settle() { owed.store(false, ordering: .releasing) }
}
