import Foundation
import Seal

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The ciphertext of sealed parts, one append-only file per part under `<data-dir>/parts/`.
///
/// A part file holds the part's secretstream chunks concatenated, nothing else: every
/// non-final chunk is `sealedChunkSize` (65,553) bytes, so chunk `i` starts at
/// `i * sealedChunkSize` and the last chunk is whatever follows the last full one. The
/// header, chunk count and size stay in the part's `sealed_parts` row; a file without a row
/// is an orphan (a crash between the rename and the commit) and is removed when the vault
/// opens, as is a staging file whose process is gone (a send that crashed while sealing).
///
/// Files are created `0600` in a `0700` directory under a staging name, written once and
/// fsynced outside any transaction, renamed to their names inside the transaction that
/// inserts their rows (the directory fsynced before it commits), and unlinked after the
/// transaction that deletes the rows commits. Unlinking without overwriting is enough: the
/// chunks are sealed under a data key whose wrapped copies are destroyed first
/// (cryptographic erasure, docs/threat-model.md).
public final class SealedPartStore: Sendable {
    /// Bytes of every non-final sealed chunk: the format's, not a copy of it.
    public static let sealedChunkSize = SealFormat.sealedChunkSize
    /// Bytes of the smallest sealed chunk (an empty final chunk).
    static let chunkOverhead = SealFormat.chunkOverhead
    /// The directory name inside the data directory.
    public static let directoryName = "parts"

    /// The `parts` directory.
    public let directory: URL
    /// Whether the directory is removed when the store goes away (in-memory vaults).
    private let isTemporary: Bool
    /// `directory.path` with a trailing `/`, computed once: `path(messageID:part:)` runs on
    /// every open, and `URL` path building was ~2.6% of an open's CPU.
    private let directoryPrefix: String

    /// A store in `directory` (created `0700` if missing).
    public init(directory: URL, isTemporary: Bool = false) throws {
        self.directory = directory
        self.isTemporary = isTemporary
        let directoryPath = directory.path
        self.directoryPrefix = directoryPath.hasSuffix("/") ? directoryPath : directoryPath + "/"
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        } catch {
            throw VaultError.partFileUnusable(directory.path, reason: error.localizedDescription)
        }
    }

    deinit {
        if isTemporary { try? FileManager.default.removeItem(at: directory) }
    }

    /// The file name of part `part` of message `messageID`: `<message id>.<part index>`.
    public static func fileName(messageID: String, part: Int) -> String { "\(messageID).\(part)" }

    /// The path of part `part` of message `messageID`.
    public func path(messageID: String, part: Int) throws -> String {
        guard !messageID.isEmpty, messageID.utf8.allSatisfy(Self.isMessageIDByte), part >= 0
        else { throw VaultError.partFileUnusable(messageID, reason: "not a valid message id or part index") }
        return directoryPrefix + Self.fileName(messageID: messageID, part: part)
    }

    /// ASCII letters, digits and `-`: the only bytes a message id (and so a file name) may hold.
    private static func isMessageIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    // MARK: Writing

    /// Creates the file of a part for writing (replacing a leftover of an earlier attempt).
    public func create(messageID: String, part: Int) throws -> Output {
        let path = try path(messageID: messageID, part: part)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.error(path, "cannot create") }
        return Output(fd: fd, path: path)
    }

    /// The suffix of a staging file: `<message id>.<part>.<pid>.sealing`.
    static let stagingSuffix = ".sealing"

    /// The staging path of part `part` of message `messageID` for this process: where it is
    /// sealed before the transaction that stores it renames it to `path(messageID:part:)`.
    public func stagingPath(messageID: String, part: Int) throws -> String {
        try path(messageID: messageID, part: part) + ".\(getpid())" + Self.stagingSuffix
    }

    /// Creates a staging file for writing (replacing a leftover).
    func createStaging(path: String) throws -> Output {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.error(path, "cannot create") }
        return Output(fd: fd, path: path)
    }

    /// The most ciphertext a part may hold in its `sealed_parts` row instead of a file: one
    /// full chunk (64 KiB of plaintext).
    ///
    /// Most parts are small (every envelope, most gateway mail); a file each cost an inode,
    /// two fsyncs and a rename per part (docs/performance.md, "SMTP gateway").
    public static let inlineLimit = sealedChunkSize

    /// A staging output that keeps up to `inlineLimit` bytes in memory and creates the
    /// staging file at `path` only when the part grows beyond that.
    func createStagingOrInline(path: String) -> Output {
        Output(deferredPath: path, inlineLimit: Self.inlineLimit)
    }

    /// Renames a staged file to its part's name (same directory, so atomic).
    func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw Self.error(from, "cannot rename") }
    }

    /// Whether `name` is a staging file that no running process is writing: its process is
    /// gone, or it is this process's and was left before this vault was opened.
    static func isStaleStagingFile(_ name: String) -> Bool? {
        guard name.hasSuffix(stagingSuffix) else { return nil }
        let fields = name.dropLast(stagingSuffix.count).split(separator: ".")
        guard fields.count == 3, let pid = pid_t(fields[2]), pid > 0 else { return true }
        if pid == getpid() { return true }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Fsyncs the directory, so created (or unlinked) names are durable.
    public func syncDirectory() throws {
        let fd = Glibc.open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error(directory.path, "cannot open") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw Self.error(directory.path, "cannot fsync") }
    }

    /// One part file being written; used by one thread at a time.
    ///
    /// A staging output made by `createStagingOrInline` holds a small part in memory
    /// (`inlineBytes`) and creates its file only when the part outgrows `inlineLimit`.
    public final class Output: @unchecked Sendable {
        private var fd: Int32
        /// The file's path.
        public let path: String
        /// Bytes appended so far.
        public private(set) var size: Int64 = 0
        private var unsyncedBytes = 0
        /// Bytes after which writeback is started in the background, so the final fsync is short.
        private static let writebackInterval = 4 << 20
        /// The part so far while it is small enough for its row; nil once in a file.
        private var pending: [UInt8]?
        private let inlineLimit: Int
        private var closed = false

        init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
            self.inlineLimit = 0
        }

        init(deferredPath path: String, inlineLimit: Int) {
            self.fd = -1
            self.path = path
            self.inlineLimit = inlineLimit
            self.pending = []
        }

        deinit { close() }

        /// The whole part, when it stayed small enough to be stored in its row (no file was
        /// created); nil for a part in a file.
        public var inlineBytes: [UInt8]? { pending }

        /// Appends `bytes`.
        public func append(_ bytes: UnsafeRawBufferPointer) throws {
            guard !closed else { throw SealedPartStore.error(path, "already closed", errno: EBADF) }
            if pending != nil {
                if pending!.count + bytes.count <= inlineLimit {
                    pending!.append(contentsOf: bytes)
                    size += Int64(bytes.count)
                    return
                }
                try spill()
            }
            guard fd >= 0 else { throw SealedPartStore.error(path, "already closed", errno: EBADF) }
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SealedPartStore.error(path, "cannot write")
                }
                offset += written
            }
            size += Int64(bytes.count)
            unsyncedBytes += bytes.count
            if unsyncedBytes >= Self.writebackInterval {
                // Start writing the range back now (no wait), so the final fsync has little left.
                _ = SealedPartStore.startWriteback?(fd, size - Int64(unsyncedBytes), Int64(unsyncedBytes), 2 /* SYNC_FILE_RANGE_WRITE */)
                unsyncedBytes = 0
            }
        }

        /// Appends `bytes`.
        public func append(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try append($0) }
        }

        /// Creates the staging file and moves the bytes held so far into it.
        private func spill() throws {
            let held = pending ?? []
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SealedPartStore.error(path, "cannot create") }
            self.fd = fd
            pending = nil
            size = 0
            try held.withUnsafeBytes { try append($0) }
        }

        /// Fsyncs the file's data and closes it (nothing to do for a part held in memory,
        /// which becomes durable with the row that stores it).
        public func syncAndClose() throws {
            guard fd >= 0 else { return }
            guard fdatasync(fd) == 0 else { throw SealedPartStore.error(path, "cannot fsync") }
            close()
        }

        /// Closes the file without syncing; a part held in memory keeps its bytes.
        public func close() {
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
            closed = true
        }
    }

    // MARK: Reading

    /// Opens the file of a part of `chunkCount` chunks for reading; throws when it is missing
    /// or its size cannot hold exactly that many chunks.
    public func open(messageID: String, part: Int, chunkCount: Int) throws -> Input {
        let path = try path(messageID: messageID, part: part)
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error(path, "cannot open") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let failure = Self.error(path, "cannot stat")
            Glibc.close(fd)
            throw failure
        }
        let size = Int64(info.st_size)
        guard Self.canHold(size: size, chunkCount: chunkCount) else {
            Glibc.close(fd)
            throw VaultError.partFileUnusable(path, reason: "\(size) bytes cannot hold \(chunkCount) sealed chunks")
        }
        return Input(fd: fd, path: path, size: size, chunkCount: chunkCount)
    }

    /// A part stored in its row (`SealedPartRecord.inlineData`), for reading like a file;
    /// throws when its size cannot hold exactly `chunkCount` chunks.
    public func open(inline bytes: Data, messageID: String, part: Int, chunkCount: Int) throws -> Input {
        let name = "part \(part) of message \(messageID) (stored in its row)"
        guard Self.canHold(size: Int64(bytes.count), chunkCount: chunkCount) else {
            throw VaultError.partFileUnusable(name, reason: "\(bytes.count) bytes cannot hold \(chunkCount) sealed chunks")
        }
        return Input(bytes: [UInt8](bytes), path: name, chunkCount: chunkCount)
    }

    /// Whether `size` bytes are exactly `chunkCount` sealed chunks (all full but the last).
    static func canHold(size: Int64, chunkCount: Int) -> Bool {
        let full = Int64(sealedChunkSize)
        return chunkCount >= 1 && size >= Int64(chunkCount - 1) * full + Int64(chunkOverhead)
            && size <= Int64(chunkCount) * full
    }

    /// One part open for reading, from its file or from its row; `pread` only, so any
    /// thread may read any batch.
    public final class Input: @unchecked Sendable {
        private let fd: Int32
        /// The part's bytes when it is stored in its row; nil for a file.
        private let bytes: [UInt8]?
        /// The file's path (or, for a part in its row, a name for messages).
        public let path: String
        /// The part's size in bytes.
        public let size: Int64
        /// How many chunks the part holds.
        public let chunkCount: Int

        init(fd: Int32, path: String, size: Int64, chunkCount: Int) {
            self.fd = fd
            self.bytes = nil
            self.path = path
            self.size = size
            self.chunkCount = chunkCount
        }

        init(bytes: [UInt8], path: String, chunkCount: Int) {
            self.fd = -1
            self.bytes = bytes
            self.path = path
            self.size = Int64(bytes.count)
            self.chunkCount = chunkCount
        }

        deinit { if fd >= 0 { Glibc.close(fd) } }

        /// The byte range of chunk `index` in the file.
        public func range(ofChunk index: Int) -> Range<Int64> {
            let start = Int64(index) * Int64(SealedPartStore.sealedChunkSize)
            return start..<min(start + Int64(SealedPartStore.sealedChunkSize), size)
        }

        /// Reads chunks `chunks` into `buffer` (at least `chunks.count * sealedChunkSize`
        /// bytes), one `pread`; returns the byte count of each chunk, in order.
        public func read(chunks: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> [Int] {
            precondition(chunks.lowerBound >= 0 && chunks.upperBound <= chunkCount, "chunk index out of range")
            guard !chunks.isEmpty else { return [] }
            let start = range(ofChunk: chunks.lowerBound).lowerBound
            let end = range(ofChunk: chunks.upperBound - 1).upperBound
            let total = Int(end - start)
            precondition(buffer.count >= total, "batch buffer too small")
            if let bytes {
                bytes.withUnsafeBytes { source in
                    buffer.baseAddress!.copyMemory(from: source.baseAddress! + Int(start), byteCount: total)
                }
                return chunks.map { Int(range(ofChunk: $0).count) }
            }
            var filled = 0
            while filled < total {
                let got = pread(fd, buffer.baseAddress! + filled, total - filled, off_t(start) + off_t(filled))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw SealedPartStore.error(path, "cannot read")
                }
                if got == 0 { throw VaultError.partFileUnusable(path, reason: "ends early") }
                filled += got
            }
            return chunks.map { Int(range(ofChunk: $0).count) }
        }

        /// Reads chunk `index` into a new array.
        public func read(chunk index: Int) throws -> [UInt8] {
            let count = Int(range(ofChunk: index).count)
            var failure: (any Error)?
            let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                do {
                    initialized = try read(chunks: index..<(index + 1), into: UnsafeMutableRawBufferPointer(buffer))[0]
                } catch {
                    initialized = 0
                    failure = error
                }
            }
            if let failure { throw failure }
            return bytes
        }
    }

    // MARK: Removing

    /// Unlinks the files of parts `parts` of message `messageID`; missing files are fine.
    public func remove(messageID: String, parts: [Int]) {
        for part in parts {
            if let path = try? path(messageID: messageID, part: part) { unlink(path) }
        }
    }

    /// Unlinks the files at `paths`; missing files are fine.
    func remove(paths: [String]) {
        for path in paths { unlink(path) }
    }

    /// The file names in the directory.
    func fileNames() throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw VaultError.partFileUnusable(directory.path, reason: error.localizedDescription)
        }
    }

    /// Unlinks every part file whose name is not in `keep`, and every stale staging file
    /// (`isStaleStagingFile`); a staging file of a running process is left alone, since that
    /// process is sealing a send into it. Returns how many it removed.
    @discardableResult
    func removeFiles(except keep: Set<String>) throws -> Int {
        var removed = 0
        for name in try fileNames() where !keep.contains(name) && Self.isStaleStagingFile(name) != false {
            if unlink(directory.appendingPathComponent(name).path) == 0 { removed += 1 }
        }
        if removed > 0 { try syncDirectory() }
        return removed
    }

    /// Linux `sync_file_range(2)`, looked up at run time (Glibc's module map hides it).
    static let startWriteback: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()

    static func error(_ path: String, _ what: String, errno code: Int32 = errno) -> VaultError {
        VaultError.partFileUnusable(path, reason: "\(what): \(String(cString: strerror(code)))")
    }
}

