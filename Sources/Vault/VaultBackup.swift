import Foundation
import GRDB
import Sodium

#if canImport(Glibc)
    import Glibc
#endif

/// A consistent copy of a vault taken while it serves (`retract backup DIR`), and its
/// restore into an empty data directory (`retract restore DIR`).
///
/// The database is copied with SQLite's online backup API inside one read transaction, so
/// the copy is one committed state however many sends and revokes run meanwhile. The part
/// files that state names are copied after it: a part is renamed into place inside the
/// transaction that inserts its row, so every row of the copy has its file, unless a
/// revocation committed after the copy deleted it (then `partsGoneAfterCopy` names it: a
/// message revoked while the backup ran is revoked in the backup too, or cannot be opened).
/// Every file is hashed (BLAKE2b-256) into `manifest.json`, written last, so a backup
/// without a manifest is incomplete. The master keys are never part of it: without them
/// the backup opens nothing, and they are backed up (and kept) apart.
public enum VaultBackup {
    /// The manifest's name in a backup directory.
    public static let manifestName = "manifest.json"
    /// The manifest's format.
    public static let format = "retract-backup-1"

    /// What a backup holds, with a hash of each file.
    public struct Manifest: Codable, Sendable, Equatable {
        /// `retract-backup-1`.
        public var format: String
        /// When the backup was taken.
        public var createdAt: Date
        /// The vault's last migration in the copy.
        public var schema: String
        /// Messages in the copy.
        public var messages: Int
        /// Each file, relative to the backup directory.
        public var files: [File]
        /// Part files that a revocation committed after the copy removed before they were read.
        public var partsGoneAfterCopy: [String]

        /// One file of the backup.
        public struct File: Codable, Sendable, Equatable {
            /// The path relative to the backup directory (`vault.sqlite`, `parts/<id>.<n>`).
            public var path: String
            /// Its size in bytes.
            public var size: Int64
            /// BLAKE2b-256 of its bytes, hex.
            public var blake2b: String
        }
    }

    /// Copies `vault` into `directory` (created; refused when it exists and is not empty)
    /// and returns the manifest it wrote.
    ///
    /// A failure part-way (a full disk, a part file that cannot be read) removes what was
    /// copied, so no directory is left that looks like a backup but is not one.
    public static func backup(_ vault: VaultDatabase, to directory: URL, at now: Date) throws -> Manifest {
        try requireEmpty(directory, role: "backup directory")
        let existed = FileManager.default.fileExists(atPath: directory.path)
        do {
            return try copy(vault, to: directory, at: now)
        } catch {
            if existed {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                    try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                }
            } else {
                try? FileManager.default.removeItem(at: directory)
            }
            throw VaultError.backupFailed(directory.path, reason: Self.reason(error))
        }
    }

    /// The one-line reason of a failed backup: the vault's own wording, or SQLite's message.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? VaultError { return error.description }
        if let error = error as? DatabaseError { return error.message ?? "SQLite error \(error.resultCode)" }
        return error.localizedDescription
    }

    /// The backup itself, into an empty `directory`.
    private static func copy(_ vault: VaultDatabase, to directory: URL, at now: Date) throws -> Manifest {
        let partsDirectory = directory.appendingPathComponent(SealedPartStore.directoryName)
        do {
            try FileManager.default.createDirectory(
                at: partsDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        } catch {
            throw VaultError.dataDirectoryUnusable(directory.path, reason: error.localizedDescription)
        }
        let databasePath = directory.appendingPathComponent(VaultDatabase.fileName).path
        let copy = try DatabaseQueue(path: databasePath)
        try vault.reader.backup(to: copy)
        let (schema, messages, partNames) = try copy.read { db in
            let schema = try String.fetchOne(
                db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1") ?? ""
            let messages = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT message_id, part_index FROM sealed_parts WHERE inline_data IS NULL ORDER BY 1, 2")
            let names = try rows.map {
                SealedPartStore.fileName(
                    messageID: try $0.decode(forColumn: "message_id"), part: try $0.decode(forColumn: "part_index"))
            }
            return (schema, messages, names)
        }
        try copy.close()
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: databasePath)
        var files = [try fileEntry(directory, VaultDatabase.fileName)]
        var gone: [String] = []
        for name in partNames {
            let source = vault.parts.directory.appendingPathComponent(name)
            let target = partsDirectory.appendingPathComponent(name)
            do {
                try FileManager.default.copyItem(at: source, to: target)
            } catch CocoaError.fileReadNoSuchFile {
                gone.append(name)
                continue
            } catch {
                if !FileManager.default.fileExists(atPath: source.path) {
                    gone.append(name)
                    continue
                }
                throw VaultError.partFileUnusable(source.path, reason: "cannot copy: \(error.localizedDescription)")
            }
            try syncFile(target)
            files.append(try fileEntry(directory, "\(SealedPartStore.directoryName)/\(name)"))
        }
        try syncFile(partsDirectory)
        let manifest = Manifest(
            format: format, createdAt: now, schema: schema, messages: messages, files: files, partsGoneAfterCopy: gone)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let manifestURL = directory.appendingPathComponent(manifestName)
        do {
            try encoder.encode(manifest).write(to: manifestURL, options: .atomic)
        } catch {
            throw VaultError.dataDirectoryUnusable(manifestURL.path, reason: error.localizedDescription)
        }
        try syncFile(manifestURL)
        try syncFile(directory)
        return manifest
    }

    /// Verifies the backup in `backup` against its manifest and copies it into
    /// `dataDirectory`, which must not exist or be empty; returns the manifest.
    ///
    /// Nothing is written to `dataDirectory` unless every file matches: the files are copied
    /// into a staging directory beside it, which is renamed into place only at the end.
    public static func restore(from backup: URL, into dataDirectory: URL) throws -> Manifest {
        let manifest = try verify(backup)
        try requireEmpty(dataDirectory, role: "data directory")
        let parent = dataDirectory.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(dataDirectory.lastPathComponent).restoring-\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        do {
            try FileManager.default.createDirectory(
                at: staging.appendingPathComponent(SealedPartStore.directoryName), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: staging.path)
            for file in manifest.files {
                let target = staging.appendingPathComponent(file.path)
                try FileManager.default.copyItem(at: backup.appendingPathComponent(file.path), to: target)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target.path)
                try syncFile(target)
            }
            try syncFile(staging.appendingPathComponent(SealedPartStore.directoryName))
            try syncFile(staging)
            if FileManager.default.fileExists(atPath: dataDirectory.path) {
                try FileManager.default.removeItem(at: dataDirectory)  // empty, checked above
            }
            try FileManager.default.moveItem(at: staging, to: dataDirectory)
            try syncFile(parent)
        } catch let error as VaultError {
            try? FileManager.default.removeItem(at: staging)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw VaultError.dataDirectoryUnusable(dataDirectory.path, reason: error.localizedDescription)
        }
        return manifest
    }

    /// Reads the manifest of `backup` and checks every file's size and hash, and that no
    /// file is missing; throws `backupDamaged` naming the first one that is not right.
    public static func verify(_ backup: URL) throws -> Manifest {
        let manifestURL = backup.appendingPathComponent(manifestName)
        guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
            throw VaultError.backupDamaged("\(manifestURL.path) is missing (an incomplete backup, or not one)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let manifest = try? decoder.decode(Manifest.self, from: data), manifest.format == format else {
            throw VaultError.backupDamaged("\(manifestURL.path) is not a \(format) manifest")
        }
        guard manifest.files.contains(where: { $0.path == VaultDatabase.fileName }) else {
            throw VaultError.backupDamaged("the manifest lists no \(VaultDatabase.fileName)")
        }
        for file in manifest.files {
            guard !file.path.hasPrefix("/"), !file.path.split(separator: "/").contains("..") else {
                throw VaultError.backupDamaged("the manifest names \(file.path.debugDescription) outside the backup")
            }
            let entry = try? fileEntry(backup, file.path)
            guard let entry else { throw VaultError.backupDamaged("\(file.path) is missing") }
            guard entry == file else {
                throw VaultError.backupDamaged("\(file.path) does not match the manifest (changed or damaged)")
            }
        }
        return manifest
    }

    /// Throws unless `directory` does not exist or is an empty directory.
    static func requireEmpty(_ directory: URL, role: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? ["?"]
        guard isDirectory.boolValue, entries.isEmpty else {
            throw VaultError.dataDirectoryUnusable(
                directory.path, reason: "the \(role) is not empty; name a new or empty one")
        }
    }

    /// The manifest entry of the file at `path` under `root`, hashed in 1 MiB reads.
    static func fileEntry(_ root: URL, _ path: String) throws -> Manifest.File {
        let url = root.appendingPathComponent(path)
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw VaultError.partFileUnusable(url.path, reason: "cannot open")
        }
        defer { try? handle.close() }
        var hash = GenericHash()
        var size: Int64 = 0
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw VaultError.partFileUnusable(url.path, reason: "cannot read: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            size += Int64(chunk.count)
            chunk.withUnsafeBytes { hash.update($0) }
        }
        return Manifest.File(path: path, size: size, blake2b: Hex.encode(hash.finalize()))
    }

    /// Fsyncs a file or directory.
    static func syncFile(_ url: URL) throws {
        let fd = Glibc.open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VaultError.dataDirectoryUnusable(url.path, reason: "cannot open to sync") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw VaultError.dataDirectoryUnusable(url.path, reason: "cannot fsync") }
    }
}
