import Foundation
import RetractCore
import Sodium

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private folder for one request's uploaded files, under the one upload root
/// `<data-dir>/uploads/` that the API and the web app share.
///
/// Files are streamed here as they arrive (never held whole in memory), readable only by the
/// service (folders 0700, files 0600). An API request's folder is removed when the request
/// ends, whether the message was sent or refused; a web compose request's folder is kept by
/// `PendingUploads` until the confirmed send, the sender's "remove", or its lifetime ends.
/// The vault keeps only the sealed copy.
final class UploadDirectory {
    /// The request's folder.
    let url: URL
    /// The in-memory key every file here is enciphered under.
    let staging: UploadStaging
    private var fileCount = 0

    /// The upload root of a data directory, `<dataDirectory>/uploads`.
    static func root(dataDirectory: URL) -> URL {
        dataDirectory.appendingPathComponent("uploads")
    }

    /// Creates `<root>/<random>/` (and `root` when missing); its files are staged under
    /// `staging`.
    init(root: URL, staging: UploadStaging) throws {
        self.staging = staging
        try Self.makePrivateDirectory(root)
        url = root.appendingPathComponent(UUID().uuidString.lowercased())
        try Self.makePrivateDirectory(url)
    }

    /// Removes every request folder under `root`: at start, what a crash or a restart left
    /// is staged under a key that died with its process, so nobody can read it any more.
    static func removeAll(in root: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        for name in names {
            try? FileManager.default.removeItem(at: root.appendingPathComponent(name))
        }
    }

    /// Removes the folder and every file in it.
    func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    /// A new, empty file that will carry `fileName` as the attachment's name; each file gets
    /// a subfolder of its own so two uploads may share a name.
    func createFile(named fileName: String) throws -> UploadFile {
        fileCount += 1
        let folder = url.appendingPathComponent(String(fileCount))
        try Self.makePrivateDirectory(folder)
        return try UploadFile(
            url: folder.appendingPathComponent(Self.safeName(fileName)), cipher: staging.newFileCipher())
    }

    /// The client's file name made safe as one path component (`AttachmentName.cleaned`:
    /// no folders, no control or format characters, no leading dots, at most 200 bytes).
    static func safeName(_ name: String) -> String {
        AttachmentName.cleaned(name)
    }

    private static func makePrivateDirectory(_ url: URL) throws {
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}

/// One uploaded file being written: created exclusively with mode 0600, appended to chunk by
/// chunk as the request body arrives, enciphered (`StagingCipher`: the nonce first, then the
/// bytes) so that what a crash leaves on disk is unreadable.
///
/// Writes are gathered into a 64 KiB buffer, so a body that arrives in small pieces does
/// not cost one system call per piece.
final class UploadFile {
    /// Where the file is.
    let url: URL
    private var descriptor: Int32
    private var pending: [UInt8] = []
    /// Plaintext bytes taken so far.
    private(set) var size = 0
    private let cipher: StagingCipher
    /// Plaintext offset of the first byte in `pending`.
    private var pendingOffset = 0

    /// Size of the write buffer.
    static let bufferSize = 64 * 1024

    init(url: URL, cipher: StagingCipher) throws {
        self.url = url
        self.cipher = cipher
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw UploadError(
                "cannot create an upload file (errno \(errno)); check that the data directory is writable")
        }
        pending.reserveCapacity(Self.bufferSize)
        try cipher.nonce.withUnsafeBytes { try writeAll($0) }
    }

    deinit {
        if descriptor >= 0 { _ = posixClose(descriptor) }
    }

    /// Appends bytes to the file.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        size += bytes.count
        // Plaintext goes no further than `pending`, which is enciphered before every write.
        var rest = bytes
        while !rest.isEmpty {
            let count = min(rest.count, Self.bufferSize - pending.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<count]))
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
            if pending.count == Self.bufferSize { try flush() }
        }
    }

    /// Writes what is buffered and closes the file; it is complete.
    func close() throws {
        guard descriptor >= 0 else { return }
        try flush()
        let result = posixClose(descriptor)
        descriptor = -1
        guard result == 0 else { throw UploadError("cannot finish an upload file (errno \(errno))") }
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        pending.withUnsafeMutableBytes { cipher.apply($0, at: UInt64(pendingOffset)) }
        try pending.withUnsafeBytes { try writeAll($0) }
        pendingOffset += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = posixWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw UploadError(
                    "cannot write an upload file (errno \(errno)); check the free space of the data directory")
            }
            offset += written
        }
    }
}

/// Writing an upload to the data directory failed (a server-side problem, answered as 500).
struct UploadError: Error, Equatable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }

private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
