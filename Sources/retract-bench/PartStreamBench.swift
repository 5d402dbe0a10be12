import Foundation
import Seal
import Sodium

#if canImport(Glibc)
    import Glibc
#endif

/// Retract's crypto path without the vault: `PartSealer` and `PartOpener` fed from a file in
/// 64 KiB chunks the way `AttachmentSealer` and `AttachmentDownload` feed them.
///
/// Sealing reads with read(2) into two reused buffers (one chunk of look-ahead tells the
/// sealer which chunk is final) and takes each chunk as a fresh array, exactly as
/// `AttachmentSealer.seal(file:…)` does; the ciphertext is then dropped instead of going to
/// SQLite. Opening reads the sealed chunks from a file prepared once before the clock starts
/// and opens each into a fresh array, as `AttachmentDownload.nextChunk()` does with a chunk
/// from the vault. The files are fresh in the page cache, so no disk read is timed.
struct PartStreamBench {
    /// The plaintext file.
    let file: String
    /// Where the sealed part is written for the opening runs.
    let sealedFile: String
    /// Its plaintext size.
    let size: Int64
    private let dataKey = DataKey.generate()
    private let messageID = MessageID.random()
    private var header: [UInt8] = []

    /// Seals `file` once, untimed, into `sealedFile` for the opening runs.
    init(file: String, sealedFile: String) throws(BenchError) {
        self.file = file
        self.sealedFile = sealedFile
        size = POSIX.fileSize(file)
        let output = open(sealedFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard output >= 0 else { throw BenchError("cannot create \(sealedFile): \(POSIX.lastError)") }
        defer { close(output) }
        header = try seal(writingTo: output).header
    }

    /// One timed seal of the file; returns its seconds.
    func sealOnce() throws(BenchError) -> Double {
        let (total, seconds) = try Stopwatch.measure { () throws(BenchError) -> Int64 in
            try seal(writingTo: nil).total
        }
        guard total == size else { throw BenchError("sealed \(total) of \(size) bytes of \(file)") }
        return seconds
    }

    /// One timed open of the sealed file; returns its seconds.
    func openOnce() throws(BenchError) -> Double {
        let (total, seconds) = try Stopwatch.measure { () throws(BenchError) -> Int64 in try openSealed() }
        guard total == size else { throw BenchError("opened \(total) of \(size) bytes of \(sealedFile)") }
        return seconds
    }

    /// The `AttachmentSealer.seal(file:…)` loop with the vault writes left out; with
    /// `output`, the chunks are appended to that file (untimed preparation for opening).
    private func seal(writingTo output: Int32?) throws(BenchError) -> (total: Int64, header: [UInt8]) {
        let fd = try POSIX.openForReading(file)
        defer { close(fd) }
        let sealer = PartSealer(dataKey: dataKey, messageID: messageID, partIndex: 1)
        let size = SealFormat.chunkSize
        var current = [UInt8](repeating: 0, count: size)
        var next = [UInt8](repeating: 0, count: size)
        var currentCount = try readFull(fd, into: &current, path: file)
        var total: Int64 = 0
        while true {
            let nextCount = currentCount == size ? try readFull(fd, into: &next, path: file) : 0
            let isFinal = nextCount == 0
            let ciphertext: [UInt8]
            do {
                ciphertext = try current.withUnsafeBytes { buffer in
                    try sealer.sealChunk(UnsafeRawBufferPointer(rebasing: buffer[0..<currentCount]), isFinal: isFinal)
                }
            } catch {
                throw BenchError("PartSealer refused a chunk: \(error)")
            }
            if let output {
                try ciphertext.withBytes { (bytes) throws(BenchError) in
                    try POSIX.writeAll(output, bytes, path: sealedFile)
                }
            }
            total += Int64(currentCount)
            if isFinal { break }
            swap(&current, &next)
            currentCount = nextCount
        }
        return (total, sealer.header)
    }

    /// Opens the sealed file chunk by chunk; returns the plaintext byte count.
    private func openSealed() throws(BenchError) -> Int64 {
        let fd = try POSIX.openForReading(sealedFile)
        defer { close(fd) }
        let opener: PartOpener
        do {
            opener = try PartOpener(dataKey: dataKey, messageID: messageID, partIndex: 1, header: header)
        } catch {
            throw BenchError("PartOpener refused the header: \(error)")
        }
        var sealed = [UInt8](repeating: 0, count: SealFormat.sealedChunkSize)
        var total: Int64 = 0
        while true {
            let count = try readFull(fd, into: &sealed, path: sealedFile)
            if count == 0 { break }
            do {
                let (plaintext, _) = try sealed.withUnsafeBytes { buffer in
                    try opener.openChunk(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                }
                total += Int64(plaintext.count)
            } catch {
                throw BenchError("PartOpener refused a chunk: \(error)")
            }
        }
        do {
            try opener.finish()
        } catch {
            throw BenchError("PartOpener: the sealed part did not end properly: \(error)")
        }
        return total
    }

    private func readFull(_ fd: Int32, into buffer: inout [UInt8], path: String) throws(BenchError) -> Int {
        try buffer.withMutableBytes { (raw) throws(BenchError) in
            try POSIX.readFull(fd, into: raw, path: path)
        }
    }
}
