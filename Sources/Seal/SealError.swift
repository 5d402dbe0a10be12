/// Why sealing or opening failed. Messages never contain key bytes.
///
/// An "open enum": compare against the `static let` values; new ones may be added. Over HTTP
/// every failure to open must become one opaque answer, so do not show `description` to
/// readers of a link.
public struct SealError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidKey
        case integrity
        case truncated
        case chunkAfterFinal
        case shortChunk
        case oversizedChunk
        case unexpectedTag
        case sealedAfterFinal
        case malformedLink
        case nonCanonicalEncoding
        case invalidLength
        case malformedEnvelope
        case invalidKeyID
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// A sealed share or wrapped data key does not open: wrong link key, wrong master key or
    /// key id, a share moved to another grant, or altered key bytes.
    public static let invalidKey = SealError(.invalidKey)
    /// A chunk or sealed metadata fails to authenticate: a flipped byte, an altered header,
    /// a part moved between messages or indexes, reordered chunks.
    public static let integrity = SealError(.integrity)
    /// A part ended without its FINAL chunk: the last chunk was dropped.
    public static let truncated = SealError(.truncated)
    /// A chunk came after the FINAL one.
    public static let chunkAfterFinal = SealError(.chunkAfterFinal)
    /// A non-final chunk did not hold exactly `SealFormat.chunkSize` plaintext bytes.
    public static let shortChunk = SealError(.shortChunk)
    /// A chunk is larger than `SealFormat.chunkSize` plaintext bytes.
    public static let oversizedChunk = SealError(.oversizedChunk)
    /// An authenticated chunk carries a secretstream tag other than MESSAGE or FINAL.
    public static let unexpectedTag = SealError(.unexpectedTag)
    /// A sealer was asked for a chunk after it wrote the FINAL one.
    public static let sealedAfterFinal = SealError(.sealedAfterFinal)
    /// Link text is not `<base>/m/<token>#<key>`.
    public static let malformedLink = SealError(.malformedLink)
    /// A token, link key or message id is not in its one canonical text form.
    public static let nonCanonicalEncoding = SealError(.nonCanonicalEncoding)
    /// A byte field has the wrong size (key, token hash, header, sealed share, wrapped key).
    public static let invalidLength = SealError(.invalidLength)
    /// Part 0 is not a valid envelope.
    public static let malformedEnvelope = SealError(.malformedEnvelope)
    /// A master key id is not 1–64 characters of `A–Z a–z 0–9 _ -`.
    public static let invalidKeyID = SealError(.invalidKeyID)

    /// Says what happened and, where there is something to do, what.
    public var description: String {
        switch code {
        case .invalidKey:
            "the key does not open this grant: check that the whole link was copied, or ask the sender for a new link (operators: check that the right master key is loaded)"
        case .integrity:
            "sealed data failed to authenticate: it was altered or belongs to another message; no plaintext was released"
        case .truncated:
            "the sealed part ends before its final chunk: data was lost or cut off; no plaintext was released"
        case .chunkAfterFinal:
            "a chunk follows the final chunk of a sealed part: extra data was appended; no plaintext was released"
        case .shortChunk:
            "a non-final chunk does not hold exactly 65536 bytes; only the last chunk of a part may be shorter"
        case .oversizedChunk:
            "a chunk holds more than 65536 plaintext bytes; split the part into 65536-byte chunks"
        case .unexpectedTag:
            "a chunk carries a tag other than MESSAGE or FINAL; the part was not sealed by this format"
        case .sealedAfterFinal:
            "the part was already sealed with a final chunk; start a new PartSealer for more data"
        case .malformedLink:
            "the link is not of the form <address>/m/<token>#<key>; copy the whole link, including the part after #"
        case .nonCanonicalEncoding:
            "a token, key or message id is not in canonical form (base64url without padding, or 32 lowercase hex digits); the link may be damaged"
        case .invalidLength:
            "a key or sealed value has the wrong number of bytes; the stored data may be damaged"
        case .malformedEnvelope:
            "the message envelope is not valid JSON of the expected shape"
        case .invalidKeyID:
            "a master key id must be 1 to 64 characters of A-Z, a-z, 0-9, underscore or hyphen"
        }
    }
}
