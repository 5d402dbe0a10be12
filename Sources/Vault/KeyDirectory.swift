import Foundation
import Seal
import Sodium

#if canImport(Glibc)
    import Glibc
#endif

/// The folder of master key files, `master-<kid>.key`, one base64url line of 32 bytes each.
///
/// Key files are created with mode 0600 inside a 0700 folder, and loading refuses any key
/// file that group or others could read: a leaked master key is half of every message.
/// A key file appears whole (written under a hidden name, then linked into place) and
/// leaves the same way (renamed away, overwritten, then unlinked), so a process that
/// reloads the folder while another rotates or retires a key never reads half a file.
public struct KeyDirectory: Sendable {
    /// The folder.
    public let url: URL

    /// What identifies one state of the folder's listing: a key file added or removed
    /// changes it, so a `KeyRing` can tell cheaply (one `stat`) when to reload.
    public struct Stamp: Sendable, Equatable {
        let inode: UInt64
        let seconds: Int
        let nanoseconds: Int
        let changeSeconds: Int
        let changeNanoseconds: Int
    }

    /// A key directory at `url` (not touched until used).
    public init(url: URL) {
        self.url = url
    }

    /// Loads every master key; the newest (greatest kid) is the active one. The ring
    /// reloads itself from this folder when a key file is added or removed.
    public func load() throws -> KeyRing {
        let stamp = self.stamp()
        return KeyRing(keys: try loadKeys(), directory: self, stamp: stamp)
    }

    /// Reads every key file (the ring's reload).
    func loadKeys() throws -> [MasterKey] {
        let files = try keyFiles()
        guard !files.isEmpty else { throw VaultError.noMasterKey(url.path) }
        var keys: [MasterKey] = []
        for (kid, path) in files {
            keys.append(try readKey(kid: kid, path: path))
        }
        return keys
    }

    /// Whether at least one key file exists.
    public func hasKeys() throws -> Bool {
        try !keyFiles().isEmpty
    }

    /// The key ids of the key files present, in ascending order (the last is the active one).
    public func keyIDs() throws -> [String] {
        try keyFiles().map(\.kid).sorted()
    }

    /// The folder's current stamp, or nil when it cannot be read (then a ring reloads on
    /// every look-up of an unknown kid only).
    public func stamp() -> Stamp? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Stamp(
            inode: UInt64(info.st_ino), seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec),
            changeSeconds: Int(info.st_ctim.tv_sec), changeNanoseconds: Int(info.st_ctim.tv_nsec))
    }

    /// Creates a new master key file and returns the key; it becomes the active key.
    ///
    /// Its kid is greater than every kid already in the folder, even when the clock went
    /// back, so the new key is the active one for every process that loads the folder.
    @discardableResult
    public func createKey(now: Date = Date()) throws -> MasterKey {
        try ensureDirectory()
        let greatest = try keyIDs().last
        let kid = try Self.makeKeyID(now: now, after: greatest)
        let key = MasterKey.generate(kid: kid)
        let path = url.appendingPathComponent("master-\(kid).key").path
        let hidden = url.appendingPathComponent(".master-\(kid).key.new").path
        let line = key.withUnsafeSecretBytes { Base64URL.encode($0) } + "\n"
        unlink(hidden)
        let fd = Glibc.open(hidden, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw VaultError.keysDirectoryUnusable(url.path, reason: String(cString: strerror(errno)))
        }
        var bytes = Array(line.utf8)
        defer { for i in bytes.indices { bytes[i] = 0 } }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        // link(2) fails if the name exists, as O_EXCL did: an existing key is never replaced.
        guard written == bytes.count, synced, link(hidden, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(hidden)
            throw VaultError.keysDirectoryUnusable(url.path, reason: "could not write \(path): \(reason)")
        }
        unlink(hidden)
        syncDirectory()
        return key
    }

    /// Destroys the key file of `kid`: renamed out of the folder's listing, overwritten with
    /// zeros, synced, then unlinked; the folder is synced after.
    ///
    /// The caller (`RetractService.retireKey`) has checked that nothing live needs the key;
    /// `stillNeeded` asks again once the key is out of the listing (so every process that
    /// reloads no longer seals under it): a count above zero puts the file back and throws
    /// `keyStillNeeded`. Overwriting is best effort against the storage below (a journaling
    /// or copy-on-write file system, an SSD's remapping may keep the old block): the key's
    /// safety rests on the file being gone from every copy, backups included.
    public func destroyKey(_ kid: String, stillNeeded: () throws -> Int = { 0 }) throws {
        let path = url.appendingPathComponent("master-\(kid).key").path
        let hidden = url.appendingPathComponent(".retired-\(kid).key").path
        guard MasterKey.isValidKeyID(kid), rename(path, hidden) == 0 else {
            throw VaultError.unknownKeyID(kid)
        }
        syncDirectory()
        let needed: Int
        do {
            needed = try stillNeeded()
        } catch {
            rename(hidden, path)
            syncDirectory()
            throw error
        }
        guard needed == 0 else {
            rename(hidden, path)
            syncDirectory()
            throw VaultError.keyStillNeeded(kid, active: false, values: needed)
        }
        let fd = Glibc.open(hidden, O_WRONLY)
        if fd >= 0 {
            var info = stat()
            if fstat(fd, &info) == 0, info.st_size > 0 {
                let zeros = [UInt8](repeating: 0, count: Int(info.st_size))
                _ = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                _ = fsync(fd)
            }
            close(fd)
        }
        guard unlink(hidden) == 0 else {
            throw VaultError.keysDirectoryUnusable(
                url.path, reason: "could not remove \(hidden): \(String(cString: strerror(errno)))")
        }
        syncDirectory()
    }

    /// When the key `kid` was made, from its first 8 hex digits (Unix seconds); nil for a
    /// kid in another form (made by hand or by another tool).
    public static func creationDate(ofKeyID kid: String) -> Date? {
        guard kid.utf8.count == 16, let seconds = UInt32(kid.prefix(8), radix: 16),
            kid.allSatisfy({ $0.isHexDigit && !$0.isUppercase })
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Key ids sort by creation time: 8 hex digits of Unix seconds, then 8 random hex digits.
    static func makeKeyID(now: Date) -> String {
        makeKeyID(seconds: UInt32(clamping: Int(now.timeIntervalSince1970)))
    }

    /// A key id made at `now` that sorts after `greatest` (the folder's newest kid), so the
    /// new key is the active one even if the clock went back since `greatest` was made.
    static func makeKeyID(now: Date, after greatest: String?) throws -> String {
        var seconds = UInt32(clamping: Int(now.timeIntervalSince1970))
        if let greatest, let made = creationDate(ofKeyID: greatest) {
            seconds = max(seconds, UInt32(clamping: Int(made.timeIntervalSince1970)))
        }
        for _ in 0..<8 {
            let kid = makeKeyID(seconds: seconds)
            if greatest.map({ kid > $0 }) ?? true { return kid }
            seconds &+= 1
        }
        throw VaultError.keysDirectoryUnusable(
            "master-\(greatest ?? "").key", reason: "cannot make a key id that sorts after \(greatest ?? "")")
    }

    private static func makeKeyID(seconds: UInt32) -> String {
        String(format: "%08x", seconds) + Hex.encode(Random.bytes(4))
    }

    private func ensureDirectory() throws {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw VaultError.keysDirectoryUnusable(url.path, reason: error.localizedDescription)
        }
    }

    /// fsync of the folder, so a created or removed name survives a power cut.
    private func syncDirectory() {
        let fd = Glibc.open(url.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private func keyFiles() throws -> [(kid: String, path: String)] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: url.path)
        } catch {
            throw VaultError.keysDirectoryUnusable(url.path, reason: error.localizedDescription)
        }
        return names.sorted().compactMap { name in
            guard name.hasPrefix("master-"), name.hasSuffix(".key") else { return nil }
            let kid = String(name.dropFirst("master-".count).dropLast(".key".count))
            guard !kid.isEmpty, kid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                return nil
            }
            return (kid, url.appendingPathComponent(name).path)
        }
    }

    private func readKey(kid: String, path: String) throws -> MasterKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw VaultError.keyFileUnreadable(path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & 0o077 == 0 else { throw VaultError.keyFileExposed(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VaultError.keyFileUnreadable(path, reason: "permission denied")
        }
        // Decoded straight into SecureBytes, so the key bytes never sit in an array that
        // nobody zeroes (the base64 text itself is in Foundation's hands).
        let line = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            return try MasterKey(kid: kid, secret: try Base64URL.decodeSecret(line))
        } catch {
            throw VaultError.keyFileMalformed(path)
        }
    }
}
