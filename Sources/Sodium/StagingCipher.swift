import CSodium

/// XChaCha20 as a seekable stream cipher (`crypto_stream_xchacha20_xor_ic`), for files that
/// must be unreadable once the process that wrote them is gone.
///
/// Upload staging: a file is written and read back by the same process, under a key held
/// only in its memory; a crash leaves bytes nobody can read. It gives confidentiality, not
/// integrity (there is no tag): only for data the process itself wrote, in a folder only it
/// can write. Any byte range can be en- or deciphered on its own, so readers that read a
/// file at arbitrary offsets (`preadv` into chunk slots) can decipher in place.
public struct StagingCipher: Sendable {
    /// Key size: 32 bytes.
    public static let keyBytes = 32
    /// Nonce size: 24 bytes; a staged file starts with its nonce.
    public static let nonceBytes = 24
    private static let blockBytes = 64

    private let key: SecureBytes
    /// This file's nonce, stored in the clear at the start of the file.
    public let nonce: [UInt8]

    /// A cipher for a new file under `key`, with a fresh random nonce.
    public init(key: SecureBytes) {
        precondition(key.count == Self.keyBytes, "staging key must be 32 bytes")
        SodiumLibrary.ensureInitialized()
        self.key = key
        self.nonce = Random.bytes(Self.nonceBytes)
    }

    /// The cipher of an existing file, from the nonce at its start.
    public init(key: SecureBytes, nonce: [UInt8]) {
        precondition(key.count == Self.keyBytes && nonce.count == Self.nonceBytes, "bad staging key or nonce")
        SodiumLibrary.ensureInitialized()
        self.key = key
        self.nonce = nonce
    }

    /// Enciphers or deciphers `bytes` in place, as the bytes at `offset` of the stream (the
    /// same operation both ways).
    public func apply(_ bytes: UnsafeMutableRawBufferPointer, at offset: UInt64) {
        guard var cursor = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        var position = offset
        key.withUnsafeBytes { keyBytes in
            let keyPointer = keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            nonce.withUnsafeBufferPointer { nonceBytes in
                // A start inside a 64-byte block: the block's keystream, used from there.
                let skip = Int(position % UInt64(Self.blockBytes))
                if skip != 0 {
                    var block = [UInt8](repeating: 0, count: Self.blockBytes)
                    _ = crypto_stream_xchacha20_xor_ic(
                        &block, block, UInt64(Self.blockBytes), nonceBytes.baseAddress!,
                        position / UInt64(Self.blockBytes), keyPointer)
                    let count = min(remaining, Self.blockBytes - skip)
                    let target = cursor.assumingMemoryBound(to: UInt8.self)
                    for index in 0..<count { target[index] ^= block[skip + index] }
                    sodium_memzero(&block, Self.blockBytes)
                    cursor += count
                    remaining -= count
                    position += UInt64(count)
                }
                guard remaining > 0 else { return }
                let pointer = cursor.assumingMemoryBound(to: UInt8.self)
                _ = crypto_stream_xchacha20_xor_ic(
                    pointer, pointer, UInt64(remaining), nonceBytes.baseAddress!,
                    position / UInt64(Self.blockBytes), keyPointer)
            }
        }
    }
}
