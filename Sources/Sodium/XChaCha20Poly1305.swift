import CSodium

/// XChaCha20-Poly1305-IETF AEAD for small values, always with a fresh random nonce.
///
/// A sealed value is `nonce(24) ‖ ciphertext ‖ tag(16)`. The random 24-byte nonce is safe for
/// any number of messages under one key, so callers never manage nonces.
public enum XChaCha20Poly1305 {
    /// Key size: 32 bytes.
    public static let keyBytes = 32
    /// Nonce size: 24 bytes.
    public static let nonceBytes = 24
    /// Authentication tag size: 16 bytes.
    public static let tagBytes = 16
    /// Bytes a sealed value adds to its plaintext: nonce plus tag, 40.
    public static let overheadBytes = nonceBytes + tagBytes

    /// Seals `plaintext` under `key` (32 bytes) and returns `nonce ‖ ciphertext ‖ tag`.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer,
        key: SecureBytes,
        additionalData: UnsafeRawBufferPointer
    ) -> [UInt8] {
        precondition(key.count == keyBytes, "XChaCha20-Poly1305 key must be 32 bytes")
        SodiumLibrary.ensureInitialized()
        let sealedCount = plaintext.count + overheadBytes
        return [UInt8](unsafeUninitializedCapacity: sealedCount) { buffer, initialized in
            let out = UnsafeMutableRawBufferPointer(buffer)
            Random.fill(UnsafeMutableRawBufferPointer(rebasing: out[0..<nonceBytes]))
            let nonce = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let cipher = nonce + nonceBytes
            var cipherCount: UInt64 = 0
            key.withUnsafeBytes { keyBytes in
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    cipher, &cipherCount,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                    nil, nonce,
                    keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
                )
            }
            initialized = sealedCount
        }
    }

    /// Seals `plaintext` under `key` (32 bytes) and returns `nonce ‖ ciphertext ‖ tag`.
    public static func seal(_ plaintext: [UInt8], key: SecureBytes, additionalData: [UInt8] = []) -> [UInt8] {
        plaintext.withUnsafeBytes { message in
            additionalData.withUnsafeBytes { seal(message, key: key, additionalData: $0) }
        }
    }

    /// Seals a secret (such as another key) without copying it out of its buffer.
    public static func seal(_ secret: SecureBytes, key: SecureBytes, additionalData: [UInt8] = []) -> [UInt8] {
        secret.withUnsafeBytes { message in
            additionalData.withUnsafeBytes { seal(message, key: key, additionalData: $0) }
        }
    }

    /// Opens `nonce ‖ ciphertext ‖ tag`; throws `authenticationFailed` unless key, additional
    /// data and every byte are right, and `invalidLength` when it is too short to be sealed.
    public static func open(_ sealed: [UInt8], key: SecureBytes, additionalData: [UInt8] = []) throws(SodiumError) -> [UInt8] {
        guard sealed.count >= overheadBytes else { throw .invalidLength }
        var output = [UInt8](repeating: 0, count: sealed.count - overheadBytes)
        let status = output.withUnsafeMutableBytes { out in
            open(sealed, key: key, additionalData: additionalData, into: out)
        }
        guard status else { throw .authenticationFailed }
        return output
    }

    /// Opens a sealed secret (such as a wrapped key) straight into a `SecureBytes`.
    public static func openSecret(_ sealed: [UInt8], key: SecureBytes, additionalData: [UInt8] = []) throws(SodiumError) -> SecureBytes {
        guard sealed.count >= overheadBytes else { throw .invalidLength }
        let output = SecureBytes(count: sealed.count - overheadBytes)
        let status = output.withUnsafeMutableBytes { out in
            open(sealed, key: key, additionalData: additionalData, into: out)
        }
        guard status else { throw .authenticationFailed }
        return output
    }

    private static func open(
        _ sealed: [UInt8],
        key: SecureBytes,
        additionalData: [UInt8],
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        precondition(key.count == keyBytes, "XChaCha20-Poly1305 key must be 32 bytes")
        SodiumLibrary.ensureInitialized()
        let status = sealed.withUnsafeBytes { sealedBytes in
            additionalData.withUnsafeBytes { ad in
                key.withUnsafeBytes { keyBytes in
                    let nonce = sealedBytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    var messageCount: UInt64 = 0
                    return crypto_aead_xchacha20poly1305_ietf_decrypt(
                        output.baseAddress?.assumingMemoryBound(to: UInt8.self), &messageCount,
                        nil,
                        nonce + nonceBytes, UInt64(sealedBytes.count - nonceBytes),
                        ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                        nonce,
                        keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    )
                }
            }
        }
        return status == 0
    }
}
