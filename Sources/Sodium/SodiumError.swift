/// A libsodium operation refused its input.
///
/// An "open enum": compare against the `static let` values; new ones may be added.
public struct SodiumError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case authenticationFailed
        case invalidLength
        case invalidEncoding
        case streamFinished
        case passwordHashFailed
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// Ciphertext did not authenticate: wrong key, wrong additional data, or altered bytes.
    public static let authenticationFailed = SodiumError(.authenticationFailed)
    /// An input (ciphertext, header, hash) has a length the operation cannot accept.
    public static let invalidLength = SodiumError(.invalidLength)
    /// Text is not the one canonical encoding (base64url without padding, lowercase hex).
    public static let invalidEncoding = SodiumError(.invalidEncoding)
    /// A secretstream already handled its FINAL chunk and accepts no more.
    public static let streamFinished = SodiumError(.streamFinished)
    /// Argon2id could not hash (usually not enough memory for its limits).
    public static let passwordHashFailed = SodiumError(.passwordHashFailed)

    /// Says what happened; never contains input bytes.
    public var description: String {
        switch code {
        case .authenticationFailed:
            "ciphertext did not authenticate: the key or additional data is wrong, or the bytes were altered"
        case .invalidLength:
            "input has the wrong length for this operation"
        case .invalidEncoding:
            "text is not in canonical encoding (base64url without padding, or lowercase hex)"
        case .streamFinished:
            "the secretstream already ended with a FINAL chunk; start a new stream"
        case .passwordHashFailed:
            "Argon2id could not hash the password; the machine may be short of memory"
        }
    }
}
