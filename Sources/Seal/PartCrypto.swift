import Sodium

/// Seals or opens a whole part held in memory; for large attachments stream with
/// `PartSealer` and `PartOpener` instead.
public enum PartCrypto {
    /// Seals `plaintext` as part `partIndex` of message `messageID`: full chunks, then a
    /// final chunk as full as possible (one empty final chunk for an empty part).
    public static func seal(_ plaintext: [UInt8], dataKey: DataKey, messageID: MessageID, partIndex: UInt32) -> SealedPart {
        let sealer = PartSealer(dataKey: dataKey, messageID: messageID, partIndex: partIndex)
        let chunkCount = Swift.max(1, (plaintext.count + SealFormat.chunkSize - 1) / SealFormat.chunkSize)
        var chunks: [[UInt8]] = []
        chunks.reserveCapacity(chunkCount)
        plaintext.withUnsafeBytes { bytes in
            for index in 0..<chunkCount {
                let start = index * SealFormat.chunkSize
                let end = Swift.min(start + SealFormat.chunkSize, bytes.count)
                do {
                    chunks.append(
                        try sealer.sealChunk(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), isFinal: index == chunkCount - 1)
                    )
                } catch {
                    preconditionFailure("chunking above follows the format's rules: \(error)")
                }
            }
        }
        return SealedPart(header: sealer.header, chunks: chunks)
    }

    /// Opens a whole part; throws the first failure and then releases no plaintext.
    ///
    /// Decrypts straight into the result, so a part costs one allocation and no copies.
    public static func open(_ part: SealedPart, dataKey: DataKey, messageID: MessageID, partIndex: UInt32) throws(SealError) -> [UInt8] {
        let opener = try PartOpener(dataKey: dataKey, messageID: messageID, partIndex: partIndex, header: part.header)
        // Bound the allocation by what the rules allow before decrypting anything.
        var capacity = 0
        for chunk in part.chunks {
            guard chunk.count <= SealFormat.sealedChunkSize else { throw .oversizedChunk }
            capacity += Swift.max(chunk.count - SealFormat.chunkOverhead, 0)
        }
        var failure: SealError?
        let plaintext = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            let output = UnsafeMutableRawBufferPointer(buffer)
            var offset = 0
            do throws(SealError) {
                for chunk in part.chunks {
                    let opened = try chunk.withBytes { (bytes) throws(SealError) in
                        try opener.openChunk(bytes, into: UnsafeMutableRawBufferPointer(rebasing: output[offset...]))
                    }
                    offset += opened.count
                }
                try opener.finish()
                initialized = offset
            } catch {
                secureZero(UnsafeMutableRawBufferPointer(rebasing: output[0..<offset]))
                initialized = 0
                failure = error
            }
        }
        if let failure { throw failure }
        return plaintext
    }
}
