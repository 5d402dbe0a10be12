import Foundation

/// A failure of the vault's storage or key directory, phrased so an operator knows what to do.
public struct VaultError: Error, Equatable, CustomStringConvertible, Sendable {
    private enum Code: Equatable, Sendable {
        case keyFileExposed
        case keyFileUnreadable
        case keyFileMalformed
        case noMasterKey
        case unknownKeyID
        case keysDirectoryUnusable
        case dataDirectoryUnusable
        case messageNotFound
        case partFileUnusable
        case unreadableRow
        case keyStillNeeded
        case keysMissing
        case backupDamaged
        case schemaNewer
        case backupFailed
    }

    private let code: Code
    /// The one-line explanation shown to the user.
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A backup directory whose manifest or files are missing or do not match; nothing
    /// was restored.
    public static func backupDamaged(_ what: String) -> VaultError {
        .init(.backupDamaged, "backup: \(what); nothing was restored")
    }

    /// A master key file can be read by group or others.
    public static func keyFileExposed(_ path: String) -> VaultError {
        .init(.keyFileExposed, "master key file \(path) is readable by group or others; run `chmod 600 \(path)`")
    }

    /// A master key file cannot be read.
    public static func keyFileUnreadable(_ path: String, reason: String) -> VaultError {
        .init(.keyFileUnreadable, "cannot read master key file \(path): \(reason)")
    }

    /// A master key file does not hold one base64url key of 32 bytes.
    public static func keyFileMalformed(_ path: String) -> VaultError {
        .init(.keyFileMalformed, "master key file \(path) is not a Retract master key (one line of 43 base64url characters)")
    }

    /// The keys directory holds no master key.
    public static func noMasterKey(_ directory: String) -> VaultError {
        .init(.noMasterKey, "no master key in \(directory); run `retract init` or `retract keys init`")
    }

    /// A stored record names a key id that is not in the keys directory.
    public static func unknownKeyID(_ kid: String) -> VaultError {
        .init(.unknownKeyID, "master key \(kid) is missing from the keys directory; restore keys/master-\(kid).key from backup")
    }

    /// `retract keys retire` of the active key, or of a key that still seals live values.
    public static func keyStillNeeded(_ kid: String, active: Bool, values: Int) -> VaultError {
        active
            ? .init(
                .keyStillNeeded,
                "master key \(kid) is the active key and cannot be retired; run `retract keys rotate` first, then retire it")
            : .init(
                .keyStillNeeded,
                "master key \(kid) still seals \(values) live value\(values == 1 ? "" : "s"); run `retract keys rotate` first, then retire it")
    }

    /// A backup stopped part-way; what it had copied was removed.
    public static func backupFailed(_ path: String, reason: String) -> VaultError {
        .init(.backupFailed, "backup into \(path) failed: \(reason); the partial copy was removed, nothing else changed")
    }

    /// The vault was made or migrated by a newer Retract: it holds migrations this binary
    /// does not know, so it is not opened (an older binary could misread or damage it).
    public static func schemaNewer(_ path: String, unknownMigrations: [String]) -> VaultError {
        .init(
            .schemaNewer,
            "the vault \(path) was migrated by a newer Retract (migration \(unknownMigrations.joined(separator: ", ")) unknown to this version); run that version or newer, or restore a backup made by this one")
    }

    /// The vault refers to master keys that are not in the keys directory (a directory that
    /// differs between nodes, or a key retired or lost too early).
    public static func keysMissing(_ kids: [String], directory: String) -> VaultError {
        let list = kids.joined(separator: ", ")
        let files = kids.map { "master-\($0).key" }.joined(separator: ", ")
        return .init(
            .keysMissing,
            "the vault needs master key\(kids.count == 1 ? "" : "s") \(list), missing from \(directory); copy \(files) from the other nodes or a backup before starting")
    }

    /// The keys directory cannot be created or used.
    public static func keysDirectoryUnusable(_ path: String, reason: String) -> VaultError {
        .init(.keysDirectoryUnusable, "cannot use keys directory \(path): \(reason)")
    }

    /// The data directory cannot be created or used.
    public static func dataDirectoryUnusable(_ path: String, reason: String) -> VaultError {
        .init(.dataDirectoryUnusable, "cannot use data directory \(path): \(reason)")
    }

    /// No message has this id.
    public static func messageNotFound(_ id: String) -> VaultError {
        .init(.messageNotFound, "no message with id \(id); `retract list` shows the ids")
    }

    /// A sealed part's file cannot be created, written, read or is not the size its row says.
    public static func partFileUnusable(_ path: String, reason: String) -> VaultError {
        .init(.partFileUnusable, "cannot use sealed part file \(path): \(reason)")
    }

    /// A stored row holds a value that does not decode (an empty date, an unknown state):
    /// the vault was changed outside Retract or by an old bug.
    public static func unreadableRow(table: String, key: String) -> VaultError {
        .init(
            .unreadableRow,
            "row \(key) of the vault's \(table) table cannot be read (a value in it does not decode); restore it from a backup or remove the row")
    }

    /// Whether this is an `unreadableRow` error.
    public var isUnreadableRow: Bool { code == .unreadableRow }

    public static func == (lhs: VaultError, rhs: VaultError) -> Bool { lhs.code == rhs.code }
}
