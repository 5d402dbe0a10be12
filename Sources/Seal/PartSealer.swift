import Sodium

/// Seals one part of a message (part 0 = envelope JSON, part i = attachment i) as a
/// secretstream under the message's data key, one chunk at a time.
///
/// Every non-final chunk must be exactly `SealFormat.chunkSize` bytes and the last one is
/// sealed with `isFinal: true`. The first chunk carries `"retract/part/v1" ‖ message_id ‖
/// u32be(part_index)` as additional data, which binds the whole stream to its place.
/// Memory: one output allocation per chunk, or none with `sealChunk(_:isFinal:into:)` or
/// `sealChunkInPlace(_:plaintextCount:isFinal:)`.
public final class PartSealer {
    private let stream: SecretStream.Push
    private var firstChunkData: [UInt8]?

    /// The 24-byte stream header, to be stored with the part.
    public let header: [UInt8]

    /// Whether the final chunk has been sealed.
    public var isFinished: Bool { stream.isFinished }

    /// Starts sealing part `partIndex` of message `messageID` under `dataKey`.
    public init(dataKey: DataKey, messageID: MessageID, partIndex: UInt32) {
        stream = SecretStream.Push(key: dataKey.secret)
        header = stream.header
        firstChunkData = AdditionalData.part(messageID: messageID, partIndex: partIndex)
    }

    /// Seals the next chunk into `output` (at least `plaintext.count + 17` bytes) and returns
    /// the bytes written. Throws `sealedAfterFinal`, `oversizedChunk`, or `shortChunk` for a
    /// non-final chunk that is not exactly `SealFormat.chunkSize` bytes; a refused chunk
    /// leaves the sealer unchanged.
    public func sealChunk(
        _ plaintext: UnsafeRawBufferPointer,
        isFinal: Bool,
        into output: UnsafeMutableRawBufferPointer
    ) throws(SealError) -> Int {
        try check(plaintext, isFinal: isFinal)
        precondition(output.count >= plaintext.count + SealFormat.chunkOverhead, "chunk output buffer too small")
        let written: Int
        do {
            written = try (firstChunkData ?? []).withBytes { (ad) throws(SodiumError) in
                try stream.push(plaintext, additionalData: ad, tag: isFinal ? .final : .message, into: output)
            }
        } catch {
            throw .sealedAfterFinal  // the only failure of push, already excluded by `check`
        }
        firstChunkData = nil
        return written
    }

    /// Seals the next chunk in place: `chunk` holds the plaintext at offsets 1 through
    /// `plaintextCount` and, on return, the sealed chunk from offset 0; returns its byte count
    /// (`plaintextCount + 17`, so `chunk` must hold at least that many bytes).
    ///
    /// A sealed chunk is the tag byte, the ciphertext, then the MAC, and libsodium encrypts in
    /// place (ciphertext over plaintext at the same address), so a caller that reads each
    /// plaintext chunk one byte past where its sealed chunk starts needs no second buffer and
    /// no copy, and the sealed chunks of a batch come out back to back, ready for one write.
    /// The bytes are exactly those `sealChunk(_:isFinal:into:)` would write, and the rules and
    /// errors are the same; a refused chunk leaves the sealer and the buffer unchanged.
    public func sealChunkInPlace(
        _ chunk: UnsafeMutableRawBufferPointer,
        plaintextCount: Int,
        isFinal: Bool
    ) throws(SealError) -> Int {
        precondition(plaintextCount >= 0 && chunk.count >= plaintextCount + SealFormat.chunkOverhead, "chunk buffer too small")
        let plaintext = UnsafeRawBufferPointer(start: chunk.baseAddress! + 1, count: plaintextCount)
        return try sealChunk(plaintext, isFinal: isFinal, into: chunk)
    }

    /// Seals the next chunk and returns its `plaintext.count + 17` bytes; see
    /// `sealChunk(_:isFinal:into:)` for the rules.
    public func sealChunk(_ plaintext: UnsafeRawBufferPointer, isFinal: Bool) throws(SealError) -> [UInt8] {
        try check(plaintext, isFinal: isFinal)
        let count = plaintext.count + SealFormat.chunkOverhead
        var failure: SealError?
        let chunk = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(SealError) {
                initialized = try sealChunk(plaintext, isFinal: isFinal, into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                initialized = 0
                failure = error
            }
        }
        if let failure { throw failure }
        return chunk
    }

    /// Seals the next chunk and returns its `plaintext.count + 17` bytes.
    public func sealChunk(_ plaintext: [UInt8], isFinal: Bool) throws(SealError) -> [UInt8] {
        try plaintext.withBytes { (bytes) throws(SealError) in try sealChunk(bytes, isFinal: isFinal) }
    }

    private func check(_ plaintext: UnsafeRawBufferPointer, isFinal: Bool) throws(SealError) {
        guard !stream.isFinished else { throw .sealedAfterFinal }
        guard plaintext.count <= SealFormat.chunkSize else { throw .oversizedChunk }
        guard isFinal || plaintext.count == SealFormat.chunkSize else { throw .shortChunk }
    }
}
