import CSodium

extension SecretStream {
    /// The sealing side of a secretstream; its state is zeroed when released.
    ///
    /// Refuses to push after a `final` chunk, which libsodium itself would allow.
    public final class Push {
        private static let stateBytes = crypto_secretstream_xchacha20poly1305_statebytes()

        private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>

        /// The 24-byte header the opener needs before the first chunk.
        public let header: [UInt8]

        /// Whether a `final` chunk has been pushed.
        public private(set) var isFinished = false

        /// Starts a stream under `key` (32 bytes) with a fresh random header.
        public init(key: SecureBytes) {
            precondition(key.count == SecretStream.keyBytes, "secretstream key must be 32 bytes")
            SodiumLibrary.ensureInitialized()
            let state = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
            self.state = state
            header = [UInt8](unsafeUninitializedCapacity: SecretStream.headerBytes) { buffer, initialized in
                key.withUnsafeBytes { keyBytes in
                    _ = crypto_secretstream_xchacha20poly1305_init_push(
                        state,
                        buffer.baseAddress!,
                        keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    )
                }
                initialized = SecretStream.headerBytes
            }
        }

        /// Seals one chunk into `output`, which must hold `message.count + 17` bytes; returns
        /// the bytes written. For callers that reuse one buffer per chunk.
        public func push(
            _ message: UnsafeRawBufferPointer,
            additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
            tag: Tag = .message,
            into output: UnsafeMutableRawBufferPointer
        ) throws(SodiumError) -> Int {
            guard !isFinished else { throw .streamFinished }
            let chunkCount = message.count + SecretStream.overheadBytes
            precondition(output.count >= chunkCount, "secretstream output buffer too small")
            var written: UInt64 = 0
            _ = crypto_secretstream_xchacha20poly1305_push(
                state,
                output.baseAddress!.assumingMemoryBound(to: UInt8.self), &written,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                tag.rawValue
            )
            if tag == .final {
                isFinished = true
            }
            return Int(written)
        }

        /// Seals one chunk and returns its `message.count + 17` bytes.
        public func push(
            _ message: UnsafeRawBufferPointer,
            additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
            tag: Tag = .message
        ) throws(SodiumError) -> [UInt8] {
            guard !isFinished else { throw .streamFinished }
            let chunkCount = message.count + SecretStream.overheadBytes
            return [UInt8](unsafeUninitializedCapacity: chunkCount) { buffer, initialized in
                // Cannot throw: finished-ness was checked above.
                initialized = (try? push(message, additionalData: additionalData, tag: tag, into: UnsafeMutableRawBufferPointer(buffer))) ?? 0
            }
        }

        /// Seals one chunk and returns its `message.count + 17` bytes.
        public func push(_ message: [UInt8], additionalData: [UInt8] = [], tag: Tag = .message) throws(SodiumError) -> [UInt8] {
            try message.withBytes { (messageBytes) throws(SodiumError) in
                try additionalData.withBytes { (ad) throws(SodiumError) in
                    try push(messageBytes, additionalData: ad, tag: tag)
                }
            }
        }

        deinit {
            sodium_memzero(state, Self.stateBytes)
            state.deallocate()
        }
    }
}
