import Seal

/// The outcome a vector file announces in its `expect:` line (docs/crypto.md, "Failures").
enum Expectation: String {
    case success = "success"
    case invalidKey = "invalid key"
    case integrity = "integrity failure"
    case truncated = "truncated"
    case chunkAfterFinal = "chunk after final"
    case nonCanonicalLink = "non-canonical link"
    case malformedLink = "malformed link"

    /// The `SealError` a failing scenario must throw; `nil` for success.
    var error: SealError? {
        switch self {
        case .success: nil
        case .invalidKey: .invalidKey
        case .integrity: .integrity
        case .truncated: .truncated
        case .chunkAfterFinal: .chunkAfterFinal
        case .nonCanonicalLink: .nonCanonicalEncoding
        case .malformedLink: .malformedLink
        }
    }
}
