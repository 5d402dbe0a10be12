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
public struct KeyDirectory: Sendable {
    /// The folder.
    public let url: URL

    /// A key directory at `url` (not touched until used).
    public init(url: URL) {
        self.url = url
    }

    /// Loads every master key; the newest (greatest kid) is the active one.
    public func load() throws -> KeyRing {
        let files = try keyFiles()
        guard !files.isEmpty else { throw VaultError.noMasterKey(url.path) }
        var keys: [MasterKey] = []
        for (kid, path) in files {
            keys.append(try readKey(kid: kid, path: path))
        }
        return KeyRing(keys: keys)
    }

    /// Whether at least one key file exists.
    public func hasKeys() throws -> Bool {
        try !keyFiles().isEmpty
    }

    /// Creates a new master key file and returns the key; it becomes the active key.
    @discardableResult
    public func createKey(now: Date = Date()) throws -> MasterKey {
        try ensureDirectory()
        let kid = Self.makeKeyID(now: now)
        let key = MasterKey.generate(kid: kid)
        let path = url.appendingPathComponent("master-\(kid).key").path
        let line = key.withUnsafeSecretBytes { Base64URL.encode($0) } + "\n"
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw VaultError.keysDirectoryUnusable(url.path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes = Array(line.utf8)
        defer { for i in bytes.indices { bytes[i] = 0 } }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw VaultError.keysDirectoryUnusable(url.path, reason: "could not write \(path)")
        }
        return key
    }

    /// Key ids sort by creation time: 8 hex digits of Unix seconds, then 8 random hex digits.
    static func makeKeyID(now: Date) -> String {
        let seconds = UInt32(clamping: Int(now.timeIntervalSince1970))
        return String(format: "%08x", seconds) + Hex.encode(Random.bytes(4))
    }

    private func ensureDirectory() throws {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw VaultError.keysDirectoryUnusable(url.path, reason: error.localizedDescription)
        }
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
