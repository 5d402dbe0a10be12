import CSodium

/// Lowercase hexadecimal, strict: decoding accepts only `0–9 a–f` in pairs.
///
/// Uses libsodium's constant-time codec, so it is safe for secrets too.
public enum Hex {
    /// Encodes `bytes` as lowercase hex.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        SodiumLibrary.ensureInitialized()
        let capacity = bytes.count * 2 + 1
        return String(unsafeUninitializedCapacity: capacity) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = sodium_bin2hex(
                    chars.baseAddress!, capacity,
                    bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count
                )
            }
            return capacity - 1  // without the NUL
        }
    }

    /// Encodes `bytes` as lowercase hex.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Decodes lowercase hex; throws `invalidEncoding` for odd lengths, uppercase or any
    /// other character.
    public static func decode(_ text: String) throws(SodiumError) -> [UInt8] {
        SodiumLibrary.ensureInitialized()
        var text = text
        // `withUTF8` only rethrows untyped errors, so the outcome travels out as a `Result`.
        return try text.withUTF8 { chars -> Result<[UInt8], SodiumError> in
            guard chars.count.isMultiple(of: 2),
                chars.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else { return .failure(.invalidEncoding) }
            let byteCount = chars.count / 2
            guard byteCount > 0 else { return .success([]) }
            var decodedCount = 0
            var status: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
                status = chars.withMemoryRebound(to: CChar.self) { input in
                    sodium_hex2bin(
                        buffer.baseAddress!, byteCount,
                        input.baseAddress, input.count,
                        nil, &decodedCount, nil
                    )
                }
                initialized = status == 0 ? decodedCount : 0
            }
            guard status == 0, decodedCount == byteCount else { return .failure(.invalidEncoding) }
            return .success(bytes)
        }.get()
    }
}
