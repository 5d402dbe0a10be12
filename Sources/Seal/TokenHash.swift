/// `BLAKE2b-256(token)`: what the vault stores and looks grants up by, instead of the token.
public struct TokenHash: Hashable, Sendable {
    /// Bytes in a token hash.
    public static let byteCount = 32

    /// The 32 bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes read back from storage; throws `invalidLength` for any other count.
    public init(bytes: [UInt8]) throws(SealError) {
        guard bytes.count == Self.byteCount else { throw .invalidLength }
        self.bytes = bytes
    }

    init(validated bytes: [UInt8]) {
        self.bytes = bytes
    }
}
