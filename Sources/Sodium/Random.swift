import CSodium

/// Bytes from libsodium's CSPRNG (`randombytes_buf`, the kernel's `getrandom`).
public enum Random {
    /// `count` random bytes, for values that are not secret (identifiers, nonces, tokens).
    ///
    /// Use `SecureBytes.random(count:)` for keys.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "random byte count must not be negative")
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        SodiumLibrary.ensureInitialized()
        randombytes_buf(base, buffer.count)
    }

    /// A uniformly distributed number in `0..<upperBound` (`randombytes_uniform`, no modulo bias).
    ///
    /// For short secrets drawn from a small range, such as a 6-digit verification code.
    public static func uniform(_ upperBound: UInt32) -> UInt32 {
        precondition(upperBound > 0, "the upper bound of a random number must be positive")
        SodiumLibrary.ensureInitialized()
        return randombytes_uniform(upperBound)
    }
}
