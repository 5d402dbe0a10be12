import Sodium

/// Opens one sealed part chunk by chunk, enforcing every rule of the format.
///
/// Rejects a chunk after FINAL (`chunkAfterFinal`), a chunk above the chunk size
/// (`oversizedChunk`, checked before decrypting), a chunk that fails to authenticate
/// (`integrity`), a tag other than MESSAGE/FINAL (`unexpectedTag`) and a non-final chunk that
/// is not exactly `SealFormat.chunkSize` bytes (`shortChunk`); `finish()` throws `truncated`
/// unless FINAL was seen. After the first failure every call throws that failure again.
///
/// A streaming caller that already passed earlier chunks on must abort its output on any
/// failure, so the reader never mistakes a prefix for the whole part.
public final class PartOpener {
    private enum State {
        case open
        case finished
        case failed(SealError)
    }

    private let stream: SecretStream.Pull
    private var firstChunkData: [UInt8]?
    private var state = State.open

    /// Whether the FINAL chunk has been opened.
    public var isFinished: Bool {
        if case .finished = state { true } else { false }
    }

    /// Starts opening part `partIndex` of message `messageID`; throws `invalidLength` unless
    /// `header` is 24 bytes.
    public init(dataKey: DataKey, messageID: MessageID, partIndex: UInt32, header: [UInt8]) throws(SealError) {
        guard header.count == SealFormat.partHeaderSize else { throw .invalidLength }
        do {
            stream = try SecretStream.Pull(key: dataKey.secret, header: header)
        } catch {
            throw .invalidLength
        }
        firstChunkData = AdditionalData.part(messageID: messageID, partIndex: partIndex)
    }

    /// Opens the next chunk into `output` (at least `ciphertext.count - 17` bytes) and returns
    /// the plaintext byte count and whether it was the final chunk. On failure nothing is
    /// left in `output`.
    public func openChunk(
        _ ciphertext: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(SealError) -> (count: Int, isFinal: Bool) {
        try checkAcceptsChunk(ciphertext)
        guard ciphertext.count >= SealFormat.chunkOverhead else { throw fail(.integrity) }
        precondition(output.count >= ciphertext.count - SealFormat.chunkOverhead, "chunk output buffer too small")

        let pulled: (count: Int, tag: SecretStream.Tag)
        do {
            pulled = try (firstChunkData ?? []).withBytes { (ad) throws(SodiumError) in
                try stream.pull(ciphertext, additionalData: ad, into: output)
            }
        } catch {
            throw fail(.integrity)
        }
        firstChunkData = nil

        switch pulled.tag {
        case .final:
            state = .finished
            return (pulled.count, true)
        case .message where pulled.count == SealFormat.chunkSize:
            return (pulled.count, false)
        case .message:
            secureZero(UnsafeMutableRawBufferPointer(rebasing: output[0..<pulled.count]))
            throw fail(.shortChunk)
        default:
            secureZero(UnsafeMutableRawBufferPointer(rebasing: output[0..<pulled.count]))
            throw fail(.unexpectedTag)
        }
    }

    /// Opens the next chunk; returns its plaintext and whether it was the final chunk.
    public func openChunk(_ ciphertext: UnsafeRawBufferPointer) throws(SealError) -> (plaintext: [UInt8], isFinal: Bool) {
        // Refuse before allocating for a chunk that will be refused anyway.
        try checkAcceptsChunk(ciphertext)
        let capacity = Swift.max(ciphertext.count - SealFormat.chunkOverhead, 0)
        var outcome: Result<Bool, SealError> = .success(false)
        let plaintext = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            do throws(SealError) {
                let opened = try openChunk(ciphertext, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = opened.count
                outcome = .success(opened.isFinal)
            } catch {
                initialized = 0
                outcome = .failure(error)
            }
        }
        return (plaintext, try outcome.get())
    }

    /// Opens the next chunk; returns its plaintext and whether it was the final chunk.
    public func openChunk(_ ciphertext: [UInt8]) throws(SealError) -> (plaintext: [UInt8], isFinal: Bool) {
        try ciphertext.withBytes { (bytes) throws(SealError) in try openChunk(bytes) }
    }

    /// Confirms the part ended properly; throws `truncated` unless the FINAL chunk was
    /// opened, or the earlier failure if there was one.
    public func finish() throws(SealError) {
        switch state {
        case .finished: return
        case .failed(let error): throw error
        case .open: throw fail(.truncated)
        }
    }

    /// Throws unless the stream is still open and the chunk is within the size limit.
    private func checkAcceptsChunk(_ ciphertext: UnsafeRawBufferPointer) throws(SealError) {
        switch state {
        case .failed(let error): throw error
        case .finished: throw fail(.chunkAfterFinal)
        case .open: break
        }
        guard ciphertext.count <= SealFormat.sealedChunkSize else { throw fail(.oversizedChunk) }
    }

    private func fail(_ error: SealError) -> SealError {
        state = .failed(error)
        return error
    }
}
