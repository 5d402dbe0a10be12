import Foundation
import Seal
import Sodium
import Vault

#if canImport(Glibc)
    import Glibc
#endif

/// Seals a part into the vault chunk by chunk, so memory stays at a few chunks whatever the
/// size of the file.
///
/// Two threads: the calling thread seals, one I/O thread reads the file ahead and writes the
/// sealed chunks behind. They share one `ChunkRing` of `depth` slots of `chunksPerSlot`
/// chunks: the I/O thread reads a slot's plaintext with one preadv(2) straight to where the
/// sealed chunks go, the sealer seals them in place, and the I/O thread appends the slot to
/// the part's file with one write(2). On a 2-core machine the cipher so has a core to itself
/// and does nothing but seal (no copy, no allocation, no system call), while reading and
/// writing share the other; a second I/O thread would only compete with the sealer for it.
enum AttachmentSealer {
    /// Chunks per slot: 16 chunks (about 1 MiB) per read and per write.
    static let chunksPerSlot = 16
    /// Slots in the ring: about 4 MiB of buffers.
    static let depth = 4
    /// Filled slots kept ahead of the sealer.
    static let fillAhead = 2

    /// Seals the file at `file` as part `partIndex`; returns its plaintext size.
    ///
    /// With `staging`, the file is a staged upload: its `StagingCipher` nonce, then the file
    /// enciphered; the I/O thread deciphers each slot right after reading it.
    static func seal(
        file: URL, staging: UploadStaging? = nil, dataKey: DataKey, messageID: MessageID, partIndex: Int,
        into writer: SealedPartWriter
    ) throws -> Int64 {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RetractError(.attachmentUnreadable, "attachment \(file.path) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        let staged = try staging.map { staging in
            StagedInput(cipher: staging.cipher(nonce: try readNonce(fd, path: file.path)))
        }
        let sealer = PartSealer(dataKey: dataKey, messageID: messageID, partIndex: UInt32(partIndex))
        try writer.beginPart(partIndex, header: sealer.header)
        let output = try writer.output(forPart: partIndex)
        let ring = ChunkRing(chunksPerSlot: chunksPerSlot, depth: depth, fillAhead: fillAhead)
        let io = JoinableThread(name: "retract.part-io") { [path = file.path] in
            runIO(ring: ring, input: fd, staged: staged, path: path, output: output)
        }

        let result: (chunks: Int, bytes: Int64)
        do {
            result = try sealSlots(ring: ring, sealer: sealer)
        } catch {
            ring.stop()
            io.join()
            throw ring.error ?? error
        }
        ring.endSealing()
        io.join()
        if let error = ring.error { throw error }
        try writer.finishPart(partIndex, chunkCount: result.chunks, plaintextSize: result.bytes)
        return result.bytes
    }

    /// The sealer's side: seals slot after slot in place until a slot ends the input; returns
    /// the chunk count and the plaintext size.
    ///
    /// The last chunk of a full slot is final only if the input ends right there, so it waits
    /// for the next slot (which is empty then) before sealing it; the other chunks need not.
    private static func sealSlots(ring: ChunkRing, sealer: PartSealer) throws -> (chunks: Int, bytes: Int64) {
        let chunkSize = SealFormat.chunkSize
        var chunkCount = 0
        var total: Int64 = 0
        var slot = 0
        while true {
            let (buffer, bytes) = try ring.waitFilled(slot)
            let chunks = max(1, (bytes + chunkSize - 1) / chunkSize)
            var sealedBytes = 0
            var isLastSlot = bytes < ring.plaintextCapacity
            for index in 0..<chunks {
                let isLastChunk = index == chunks - 1
                if isLastChunk && !isLastSlot {
                    isLastSlot = try ring.waitFilled(slot + 1).bytes == 0
                }
                let start = index * SealFormat.sealedChunkSize
                let count = min(chunkSize, bytes - index * chunkSize)
                sealedBytes += try sealer.sealChunkInPlace(
                    UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + count + SealFormat.chunkOverhead)]),
                    plaintextCount: count, isFinal: isLastChunk && isLastSlot)
            }
            ring.didSeal(bytes: sealedBytes)
            chunkCount += chunks
            total += Int64(bytes)
            if isLastSlot { return (chunkCount, total) }
            slot += 1
        }
    }

    /// The I/O thread's side: fills and writes slots as the ring asks until it says stop;
    /// records the first error in the ring.
    private static func runIO(
        ring: ChunkRing, input: Int32, staged: StagedInput?, path: String, output: SealedPartStore.Output
    ) {
        var offset: Int64 = 0
        while true {
            switch ring.nextIOStep() {
            case .fill(let slot, let buffer):
                do {
                    let bytes = try fill(
                        buffer, chunks: ring.chunksPerSlot, from: input, at: offset + (staged == nil ? 0 : headerBytes),
                        path: path)
                    staged?.decipher(buffer, bytes: bytes, at: offset, chunks: ring.chunksPerSlot)
                    offset += Int64(bytes)
                    ring.didFill(slot, bytes: bytes)
                } catch {
                    ring.fail(error)
                    return
                }
            case .write(let slot, let bytes):
                do {
                    try output.append(bytes)
                    ring.didWrite(slot)
                } catch {
                    ring.fail(error)
                    return
                }
            case .stop:
                return
            }
        }
    }

    /// Reads up to `chunks` plaintext chunks from `input` at `offset` into their places in a
    /// slot's buffer, with preadv(2), until they are full or the file ends; returns the byte
    /// count.
    private static func fill(
        _ buffer: UnsafeMutableRawBufferPointer, chunks: Int, from input: Int32, at offset: Int64, path: String
    ) throws -> Int {
        let chunkSize = SealFormat.chunkSize
        let capacity = chunks * chunkSize
        var filled = 0
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: chunks) { vectors in
            while filled < capacity {
                // The chunks from the one the last read stopped in, that one from where it stopped.
                let first = filled / chunkSize
                for index in first..<chunks {
                    let range = ChunkRing.plaintextRange(ofChunk: index)
                    let skip = index == first ? filled % chunkSize : 0
                    vectors[index - first] = iovec(
                        iov_base: buffer.baseAddress! + range.lowerBound + skip, iov_len: range.count - skip)
                }
                let got = preadv(input, vectors.baseAddress!, Int32(chunks - first), off_t(offset) + off_t(filled))
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

    /// Bytes before a staged upload's content: its nonce.
    static let headerBytes = Int64(StagingCipher.nonceBytes)

    /// A staged upload's nonce, from its first bytes.
    private static func readNonce(_ fd: Int32, path: String) throws -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: StagingCipher.nonceBytes)
        let got = nonce.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard got == nonce.count else {
            throw RetractError(.attachmentUnreadable, "attachment \(path) is not a staged upload of this service")
        }
        return nonce
    }

    /// How the I/O thread turns a staged upload's slot back into plaintext.
    struct StagedInput: Sendable {
        let cipher: StagingCipher

        /// Deciphers the `bytes` plaintext bytes a fill put in their chunk places of
        /// `buffer`, which were read from plaintext offset `offset`.
        func decipher(_ buffer: UnsafeMutableRawBufferPointer, bytes: Int, at offset: Int64, chunks: Int) {
            let chunkSize = SealFormat.chunkSize
            var done = 0
            for index in 0..<chunks where done < bytes {
                let range = ChunkRing.plaintextRange(ofChunk: index)
                let count = min(chunkSize, bytes - done)
                cipher.apply(
                    UnsafeMutableRawBufferPointer(rebasing: buffer[range.lowerBound..<(range.lowerBound + count)]),
                    at: UInt64(offset) + UInt64(done))
                done += count
            }
        }
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
}
