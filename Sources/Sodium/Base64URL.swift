import CSodium

/// base64url without padding (RFC 4648 §5), strict: exactly one text form per byte string.
///
/// Decoding rejects padding, whitespace, characters outside `A–Z a–z 0–9 - _`, impossible
/// lengths and non-zero unused trailing bits (libsodium's
/// `sodium_base64_VARIANT_URLSAFE_NO_PADDING`), then re-encodes and compares, so any text it
/// accepts is the canonical encoding.
public enum Base64URL {
    private static let variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING

    /// Whether `byte` is one of the alphabet's characters (`A–Z a–z 0–9 - _`): a quick check
    /// of text that is only passed on, not decoded.
    public static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// Characters needed to encode `byteCount` bytes: ⌈4n/3⌉.
    public static func encodedLength(byteCount: Int) -> Int {
        (byteCount * 4 + 2) / 3
    }

    /// Encodes `bytes`.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        SodiumLibrary.ensureInitialized()
        let capacity = sodium_base64_encoded_len(bytes.count, variant)  // includes the NUL
        return String(unsafeUninitializedCapacity: capacity) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = sodium_bin2base64(
                    chars.baseAddress!, capacity,
                    bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                    variant
                )
            }
            return capacity - 1  // without the NUL
        }
    }

    /// Encodes `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Encodes a secret; the returned string is as sensitive as the secret.
    public static func encode(_ secret: SecureBytes) -> String {
        secret.withUnsafeBytes { encode($0) }
    }

    /// Decodes canonical base64url text; throws `invalidEncoding` for anything else.
    public static func decode(_ text: String) throws(SodiumError) -> [UInt8] {
        let secret = try decodeSecret(text)
        return secret.withUnsafeBytes { [UInt8]($0) }
    }

    /// Decodes canonical base64url text straight into a `SecureBytes` (for keys).
    public static func decodeSecret(_ text: String) throws(SodiumError) -> SecureBytes {
        SodiumLibrary.ensureInitialized()
        var text = text
        // `withUTF8` only rethrows untyped errors, so the outcome travels out as a `Result`.
        return try text.withUTF8 { chars -> Result<SecureBytes, SodiumError> in
            let maxBytes = chars.count * 3 / 4
            let decoded = SecureBytes(count: maxBytes)
            var decodedCount = 0
            let status = decoded.withUnsafeMutableBytes { out in
                chars.withMemoryRebound(to: CChar.self) { input in
                    sodium_base642bin(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count,
                        input.baseAddress, input.count,
                        nil, &decodedCount, nil,
                        variant
                    )
                }
            }
            guard status == 0, decodedCount == maxBytes else { return .failure(.invalidEncoding) }
            // Belt and braces: the only text accepted is what encoding the bytes gives back.
            guard chars.count == encodedLength(byteCount: decodedCount),
                reencodes(decoded, to: UnsafeRawBufferPointer(chars))
            else { return .failure(.invalidEncoding) }
            return .success(decoded)
        }.get()
    }

    /// Compares the encoding of `bytes` with `text` in a buffer that is wiped afterwards.
    private static func reencodes(_ bytes: SecureBytes, to text: UnsafeRawBufferPointer) -> Bool {
        let capacity = sodium_base64_encoded_len(bytes.count, variant)
        let encoded = SecureBytes(count: capacity)
        return encoded.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { input in
                _ = sodium_bin2base64(
                    out.baseAddress!.assumingMemoryBound(to: CChar.self), capacity,
                    input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count,
                    variant
                )
            }
            return constantTimeEquals(UnsafeRawBufferPointer(rebasing: out[0..<(capacity - 1)]), text)
        }
    }
}
