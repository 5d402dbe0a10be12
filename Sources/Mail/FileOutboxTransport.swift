import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The embedded default: writes each delivered mail as `<directory>/<id>.eml` atomically
/// (temp file + rename, file mode 0600, directory created 0700 if missing); id must match
/// `[A-Za-z0-9_-]{1,64}` or it throws.
///
/// The file is written under a hidden temporary name, flushed to disk, then renamed, so a
/// reader (the dev mailbox page) never sees half a mail, and the directory is synced so a
/// delivery that returned survives a crash. Delivering the same id again replaces the file,
/// which makes the outbox worker's retries harmless. The envelope is not stored: the
/// headers say everything a local reader needs.
public struct FileOutboxTransport: MailTransport {
    /// Where the `.eml` files go.
    public let directory: URL

    /// Creates a transport writing into `directory`; nothing is touched until the first delivery.
    public init(directory: URL) {
        self.directory = directory
    }

    /// The file a delivery with this id is written to.
    public func fileURL(for id: String) throws(MailError) -> URL {
        try Self.checkID(id)
        return self.directory.appendingPathComponent("\(id).eml")
    }

    /// Writes the mail to `<directory>/<id>.eml`.
    public func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError) {
        let target = try self.fileURL(for: id)
        try self.createDirectoryIfNeeded()
        let temporary = self.directory.appendingPathComponent(".\(id).\(MessageIDFactory.randomHex(bytes: 8)).tmp")
        do throws(MailError) {
            try Self.writeNewFile(temporary.path, data)
            guard rename(temporary.path, target.path) == 0 else { throw Self.posixError("rename", temporary.path) }
            try Self.syncDirectory(self.directory.path)
        } catch {
            unlink(temporary.path)
            throw error
        }
    }

    static func checkID(_ id: String) throws(MailError) {
        let valid =
            (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            }
        guard valid else {
            throw MailError.invalidDeliveryID.with(
                "\(MailError.quote(id)) cannot name an outbox file; use 1–64 letters, digits, '_' or '-'")
        }
    }

    private func createDirectoryIfNeeded() throws(MailError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: self.directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw MailError.deliveryFailed.with(
                    "the outbox path \(MailError.quote(self.directory.path, limit: 200)) is a file; "
                        + "move it away or choose another data directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: self.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw MailError.deliveryFailed.with(
                "cannot create the outbox directory \(MailError.quote(self.directory.path, limit: 200)) "
                    + "(\(error.localizedDescription)); check the data directory's permissions")
        }
    }

    /// Creates the file exclusively with mode 0600 from the start (never readable by others,
    /// not even briefly), writes everything and syncs it.
    private static func writeNewFile(_ path: String, _ data: [UInt8]) throws(MailError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.posixError("create", path) }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw Self.posixError("chmod", path) }
        var written = 0
        while written < data.count {
            let result = data.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + written, data.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw Self.posixError("write", path)
            }
            written += result
        }
        guard fsync(fd) == 0 else { throw Self.posixError("sync", path) }
    }

    private static func syncDirectory(_ path: String) throws(MailError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.posixError("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Self.posixError("sync", path) }
    }

    private static func posixError(_ operation: String, _ path: String) -> MailError {
        let reason = String(cString: strerror(errno))
        return MailError.deliveryFailed.with(
            "cannot \(operation) \(MailError.quote(path, limit: 200)): \(reason); check the outbox directory's "
                + "permissions and free space")
    }
}
