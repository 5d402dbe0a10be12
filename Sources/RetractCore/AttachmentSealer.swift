import Foundation
import Seal
import Vault

#if canImport(Glibc)
    import Glibc
#endif

/// Seals a part into the vault chunk by chunk, so memory stays at two chunks whatever the
/// size of the file.
enum AttachmentSealer {
    /// Seals the file at `file` as part `partIndex`; returns its plaintext size.
    static func seal(
        file: URL, dataKey: DataKey, messageID: MessageID, partIndex: Int, into writer: SealedPartWriter
    ) throws -> Int64 {
        let fd = open(file.path, O_RDONLY)
        guard fd >= 0 else {
            throw RetractError(.attachmentUnreadable, "attachment \(file.path) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let sealer = PartSealer(dataKey: dataKey, messageID: messageID, partIndex: UInt32(partIndex))
        try writer.beginPart(partIndex, header: sealer.header)
        let size = SealFormat.chunkSize
        var current = [UInt8](repeating: 0, count: size)
        var next = [UInt8](repeating: 0, count: size)
        var currentCount = try readFull(fd, into: &current, path: file.path)
        var chunkIndex = 0
        var total: Int64 = 0
        while true {
            let nextCount = currentCount == size ? try readFull(fd, into: &next, path: file.path) : 0
            let isFinal = nextCount == 0
            let ciphertext = try current.withUnsafeBytes { buffer in
                try sealer.sealChunk(UnsafeRawBufferPointer(rebasing: buffer[0..<currentCount]), isFinal: isFinal)
            }
            try writer.appendChunk(partIndex: partIndex, chunkIndex: chunkIndex, ciphertext: ciphertext)
            total += Int64(currentCount)
            chunkIndex += 1
            if isFinal { break }
            swap(&current, &next)
            currentCount = nextCount
        }
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
    private static func readFull(_ fd: Int32, into buffer: inout [UInt8], path: String) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let got = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + filled, raw.count - filled)
            }
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
