import Foundation
import Seal
import Sodium

#if canImport(Glibc)
    import Glibc
#endif

/// Retract's crypto path without the vault: `PartSealer` and `PartOpener` fed from a file in
/// 64 KiB chunks the way `AttachmentSealer` and `AttachmentDownload` feed them.
///
/// Sealing does the cipher work of `AttachmentSealer.seal(file:…)` on one thread, with no
/// I/O thread and no vault: 16 chunks at a time are read with read(2) into one reused slot
/// buffer, each plaintext chunk one byte past where its sealed chunk starts, and sealed in
/// place (`PartSealer.sealChunkInPlace`), as the sealer does; the sealed slot is then dropped
/// instead of being written (or, untimed, written to the file the opening runs read). Opening reads the sealed chunks from a file prepared once before the clock starts
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
    /// Chunks per read, as `AttachmentSealer.chunksPerSlot`.
    private static let chunksPerSlot = 16

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

    /// The `AttachmentSealer.seal(file:…)` cipher loop with the I/O thread and the vault left
    /// out; with `output`, each sealed slot is appended to that file (untimed preparation for
    /// opening).
    private func seal(writingTo output: Int32?) throws(BenchError) -> (total: Int64, header: [UInt8]) {
        let fd = try POSIX.openForReading(file)
        defer { close(fd) }
        let sealer = PartSealer(dataKey: dataKey, messageID: messageID, partIndex: 1)
        let chunkSize = SealFormat.chunkSize
        let sealedSize = SealFormat.sealedChunkSize
        let chunksPerSlot = Self.chunksPerSlot
        let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: chunksPerSlot * sealedSize, alignment: 4096)
        defer { slot.deallocate() }
        /// Reads up to one slot of plaintext chunks into their places; returns the byte count.
        func fill() throws(BenchError) -> Int {
            var bytes = 0
            for index in 0..<chunksPerSlot {
                let start = index * sealedSize + 1
                let got = try POSIX.readFull(
                    fd, into: UnsafeMutableRawBufferPointer(rebasing: slot[start..<(start + chunkSize)]), path: file)
                bytes += got
                if got < chunkSize { break }
            }
            return bytes
        }
        var bytes = try fill()
        var total: Int64 = 0
        while true {
            let chunks = max(1, (bytes + chunkSize - 1) / chunkSize)
            var isLastSlot = bytes < chunksPerSlot * chunkSize
            var sealedBytes = 0
            for index in 0..<chunks {
                let count = min(chunkSize, bytes - index * chunkSize)
                let isLastChunk = index == chunks - 1
                if isLastChunk && !isLastSlot {
                    // The file may end right here: look one byte ahead, then step back.
                    var probe: UInt8 = 0
                    let got = read(fd, &probe, 1)
                    guard got >= 0 else { throw BenchError("cannot read \(file): \(POSIX.lastError)") }
                    isLastSlot = got == 0
                    if got == 1 { lseek(fd, -1, SEEK_CUR) }
                }
                let start = index * sealedSize
                do {
                    sealedBytes += try sealer.sealChunkInPlace(
                        UnsafeMutableRawBufferPointer(rebasing: slot[start..<(start + count + SealFormat.chunkOverhead)]),
                        plaintextCount: count, isFinal: isLastChunk && isLastSlot)
                } catch {
                    throw BenchError("PartSealer refused a chunk: \(error)")
                }
            }
            if let output {
                try POSIX.writeAll(output, UnsafeRawBufferPointer(rebasing: slot[0..<sealedBytes]), path: sealedFile)
            }
            total += Int64(bytes)
            if isLastSlot { break }
            bytes = try fill()
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
