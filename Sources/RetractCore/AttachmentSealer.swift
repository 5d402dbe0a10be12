import Foundation
import Seal
import Vault

#if canImport(Glibc)
    import Glibc
#endif

/// Seals a part into the vault chunk by chunk, so memory stays at a few chunks whatever the
/// size of the file.
///
/// A file goes through three threads: a reader thread reads plaintext chunks ahead, the
/// calling thread seals them, a writer thread appends the sealed chunks to the part's file.
/// They hand chunks over through two rings of reused buffers (`ChunkRing`, `readAhead` and
/// `writeBehind` chunks), so the cipher has a core to itself and the other does the I/O.
enum AttachmentSealer {
    /// Plaintext chunks the reader may read ahead of the sealer.
    static let readAhead = 16
    /// Sealed chunks that may wait for the writer.
    static let writeBehind = 16

    /// Marks in a ring: the stream ended, or its producer failed.
    private static let endMark = -1
    private static let failureMark = -2

    /// The first error of the reader or writer thread.
    private final class Failure: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: (any Error)?
        var error: (any Error)? { lock.withLock { stored } }
        func record(_ error: any Error) { lock.withLock { if stored == nil { stored = error } } }
    }

    /// Seals the file at `file` as part `partIndex`; returns its plaintext size.
    static func seal(
        file: URL, dataKey: DataKey, messageID: MessageID, partIndex: Int, into writer: SealedPartWriter
    ) throws -> Int64 {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RetractError(.attachmentUnreadable, "attachment \(file.path) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let sealer = PartSealer(dataKey: dataKey, messageID: messageID, partIndex: UInt32(partIndex))
        try writer.beginPart(partIndex, header: sealer.header)
        let output = try writer.output(forPart: partIndex)
        let size = SealFormat.chunkSize
        let path = file.path
        let plaintext = ChunkRing(slotSize: size, depth: readAhead)
        let sealed = ChunkRing(slotSize: SealFormat.sealedChunkSize, depth: writeBehind)
        let readFailure = Failure()
        let writeFailure = Failure()

        let reader = JoinableThread(name: "retract.part-reader") {
            while let slot = plaintext.acquire() {
                do {
                    let count = try readFull(fd, into: slot, path: path)
                    plaintext.submit(count)
                    if count < size { return }
                } catch {
                    readFailure.record(error)
                    plaintext.submit(failureMark)
                    return
                }
            }
        }
        let writerThread = JoinableThread(name: "retract.part-writer") {
            while true {
                let (bytes, count) = sealed.peek()
                if count < 0 { return }
                do {
                    try output.append(bytes)
                } catch {
                    writeFailure.record(error)
                    sealed.cancel()
                    return
                }
                sealed.release()
            }
        }
        func stop() {
            plaintext.cancel()
            if let slot = sealed.acquire() {
                _ = slot
                sealed.submit(endMark)
            }
            reader.join()
            writerThread.join()
        }

        var chunkIndex = 0
        var total: Int64 = 0
        do {
            while true {
                let (bytes, count) = plaintext.peek()
                if count < 0 { throw readFailure.error ?? RetractError(.attachmentUnreadable, "attachment \(path) could not be read") }
                var isFinal = count < size
                if !isFinal {
                    let following = plaintext.peek(1).count
                    if following < 0 { throw readFailure.error ?? RetractError(.attachmentUnreadable, "attachment \(path) could not be read") }
                    isFinal = following == 0
                }
                guard let slot = sealed.acquire() else { throw writeFailure.error ?? CancellationError() }
                let written = try sealer.sealChunk(bytes, isFinal: isFinal, into: slot)
                sealed.submit(written)
                plaintext.release()
                total += Int64(count)
                chunkIndex += 1
                if isFinal { break }
            }
        } catch {
            stop()
            throw error
        }
        stop()
        if let error = writeFailure.error { throw error }
        try writer.finishPart(partIndex, chunkCount: chunkIndex, plaintextSize: total)
        return total
    }

    /// Seals bytes already in memory (the envelope) as part `partIndex`.
    static func seal(bytes: [UInt8], dataKey: DataKey, messageID: MessageID, partIndex: Int, into writer: SealedPartWriter)
        throws
    {
        let part = PartCrypto.seal(bytes, dataKey: dataKey, messageID: messageID, partIndex: UInt32(partIndex))
        try writer.beginPart(partIndex, header: part.header)
        for (index, chunk) in part.chunks.enumerated() {
            try writer.appendChunk(partIndex: partIndex, chunkIndex: index, ciphertext: chunk)
        }
        try writer.finishPart(partIndex, chunkCount: part.chunks.count, plaintextSize: Int64(bytes.count))
    }

    /// Reads until `buffer` is full or the file ends; returns the byte count.
    private static func readFull(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let got = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if got == 0 { break }
            if got < 0 {
                if errno == EINTR { continue }
                throw RetractError(.attachmentUnreadable, "attachment \(path) could not be read: \(String(cString: strerror(errno)))")
            }
            filled += got
        }
        return filled
    }
}
