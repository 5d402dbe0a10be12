import CSodium

/// BLAKE2b (`crypto_generichash`), keyed or unkeyed, fed in as many pieces as needed.
///
/// Non-copyable so the running state exists once: `finalize` consumes it, and the state
/// (which holds key material for a keyed hash) is zeroed when it goes away.
public struct GenericHash: ~Copyable {
    /// Output size used when none is given: 32 bytes (BLAKE2b-256).
    public static let defaultOutputBytes = 32
    /// Output sizes BLAKE2b accepts.
    public static let outputBytesRange = 16...64
    /// Key sizes BLAKE2b accepts for a keyed hash.
    public static let keyBytesRange = 16...64

    private static let stateBytes = crypto_generichash_statebytes()
    /// libsodium declares the state `CRYPTO_ALIGN(64)`; Swift sees it only as an opaque pointer.
    private static let stateAlignment = 64

    private let state: UnsafeMutableRawPointer
    private let outputLength: Int

    /// Starts an unkeyed hash with an output of `outputLength` bytes (16...64).
    public init(outputLength: Int = GenericHash.defaultOutputBytes) {
        self.init(key: nil, outputLength: outputLength)
    }

    /// Starts a keyed hash (a MAC or KDF) under `key` (16...64 bytes).
    public init(key: SecureBytes, outputLength: Int = GenericHash.defaultOutputBytes) {
        self.init(key: .some(key), outputLength: outputLength)
    }

    private init(key: SecureBytes?, outputLength: Int) {
        precondition(Self.outputBytesRange.contains(outputLength), "BLAKE2b output must be 16...64 bytes")
        SodiumLibrary.ensureInitialized()
        self.outputLength = outputLength
        state = UnsafeMutableRawPointer.allocate(byteCount: Self.stateBytes, alignment: Self.stateAlignment)
        let typed = OpaquePointer(state)
        if let key {
            precondition(Self.keyBytesRange.contains(key.count), "BLAKE2b key must be 16...64 bytes")
            key.withUnsafeBytes { keyBytes in
                _ = crypto_generichash_init(
                    typed,
                    keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    keyBytes.count,
                    outputLength
                )
            }
        } else {
            _ = crypto_generichash_init(typed, nil, 0, outputLength)
        }
    }

    /// Feeds more input.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = crypto_generichash_update(
            OpaquePointer(state),
            base.assumingMemoryBound(to: UInt8.self),
            UInt64(bytes.count)
        )
    }

    /// Feeds more input.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds secret input without copying it out of its buffer.
    public mutating func update(_ secret: SecureBytes) {
        secret.withUnsafeBytes { update($0) }
    }

    /// Ends the hash and returns the digest.
    public consuming func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: outputLength) { buffer, initialized in
            finalize(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = outputLength
        }
    }

    /// Ends the hash and returns the digest as a secret (for key derivation).
    public consuming func finalizeSecret() -> SecureBytes {
        let digest = SecureBytes(count: outputLength)
        digest.withUnsafeMutableBytes { finalize(into: $0) }
        return digest
    }

    private func finalize(into output: UnsafeMutableRawBufferPointer) {
        _ = crypto_generichash_final(
            OpaquePointer(state),
            output.baseAddress!.assumingMemoryBound(to: UInt8.self),
            outputLength
        )
    }

    /// Unkeyed hash of `inputs` concatenated.
    public static func hash(_ inputs: [UInt8]..., outputLength: Int = GenericHash.defaultOutputBytes) -> [UInt8] {
        var hash = GenericHash(outputLength: outputLength)
        for input in inputs {
            hash.update(input)
        }
        return hash.finalize()
    }

    deinit {
        sodium_memzero(state, Self.stateBytes)
        state.deallocate()
    }
}
