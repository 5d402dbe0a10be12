import CSodium

extension SecretStream {
    /// The opening side of a secretstream; its state is zeroed when released.
    ///
    /// Refuses to pull after a `final` chunk, so data appended to a finished stream is never
    /// mistaken for part of it.
    public final class Pull {
        private static let stateBytes = crypto_secretstream_xchacha20poly1305_statebytes()

        private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>

        /// Whether a `final` chunk has been pulled.
        public private(set) var isFinished = false

        /// Starts opening the stream whose 24-byte `header` was produced under `key` (32 bytes).
        public init(key: SecureBytes, header: [UInt8]) throws(SodiumError) {
            precondition(key.count == SecretStream.keyBytes, "secretstream key must be 32 bytes")
            guard header.count == SecretStream.headerBytes else { throw .invalidLength }
            SodiumLibrary.ensureInitialized()
            let state = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
            self.state = state
            // init_pull cannot fail once the header has the right length.
            header.withUnsafeBufferPointer { headerBytes in
                key.withUnsafeBytes { keyBytes in
                    _ = crypto_secretstream_xchacha20poly1305_init_pull(
                        state,
                        headerBytes.baseAddress!,
                        keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    )
                }
            }
        }

        /// Opens one chunk into `output`, which must hold `ciphertext.count - 17` bytes.
        ///
        /// libsodium checks the MAC before decrypting, so on failure `output` receives no
        /// plaintext.
        public func pull(
            _ ciphertext: UnsafeRawBufferPointer,
            additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
            into output: UnsafeMutableRawBufferPointer
        ) throws(SodiumError) -> (count: Int, tag: Tag) {
            guard !isFinished else { throw .streamFinished }
            guard ciphertext.count >= SecretStream.overheadBytes else { throw .invalidLength }
            precondition(output.count >= ciphertext.count - SecretStream.overheadBytes, "secretstream output buffer too small")
            var written: UInt64 = 0
            var tag: UInt8 = 0
            var scratch: UInt8 = 0
            let status = withUnsafeMutablePointer(to: &scratch) { scratchPointer in
                crypto_secretstream_xchacha20poly1305_pull(
                    state,
                    output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? scratchPointer, &written,
                    &tag,
                    ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count),
                    additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count)
                )
            }
            guard status == 0 else { throw .authenticationFailed }
            let pulled = Tag(rawValue: tag)
            if pulled == .final {
                isFinished = true
            }
            return (Int(written), pulled)
        }

        /// Opens one chunk and returns its plaintext and tag.
        public func pull(
            _ ciphertext: UnsafeRawBufferPointer,
            additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
        ) throws(SodiumError) -> (message: [UInt8], tag: Tag) {
            guard !isFinished else { throw .streamFinished }
            guard ciphertext.count >= SecretStream.overheadBytes else { throw .invalidLength }
            let capacity = ciphertext.count - SecretStream.overheadBytes
            var result: Result<Tag, SodiumError> = .success(.message)
            let message = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                do throws(SodiumError) {
                    let (count, tag) = try pull(ciphertext, additionalData: additionalData, into: UnsafeMutableRawBufferPointer(buffer))
                    initialized = count
                    result = .success(tag)
                } catch {
                    initialized = 0
                    result = .failure(error)
                }
            }
            return (message, try result.get())
        }

        /// Opens one chunk and returns its plaintext and tag.
        public func pull(_ ciphertext: [UInt8], additionalData: [UInt8] = []) throws(SodiumError) -> (message: [UInt8], tag: Tag) {
            try ciphertext.withBytes { (cipherBytes) throws(SodiumError) in
                try additionalData.withBytes { (ad) throws(SodiumError) in
                    try pull(cipherBytes, additionalData: ad)
                }
            }
        }

        deinit {
            sodium_memzero(state, Self.stateBytes)
            state.deallocate()
        }
    }
}
