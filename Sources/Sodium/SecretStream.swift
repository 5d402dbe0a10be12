/// `crypto_secretstream_xchacha20poly1305`: a sequence of authenticated chunks under one key.
///
/// Each chunk's MAC feeds the next chunk's nonce, so chunks cannot be reordered, dropped
/// from the middle or moved between streams without failing authentication. Use `Push` to
/// seal and `Pull` to open.
public enum SecretStream {
    /// Key size: 32 bytes.
    public static let keyBytes = 32
    /// Stream header size: 24 bytes, sent ahead of the first chunk.
    public static let headerBytes = 24
    /// Bytes each chunk adds to its plaintext: 1 tag byte plus a 16-byte MAC, 17.
    public static let overheadBytes = 17

    /// The tag carried, authenticated, by every chunk.
    public struct Tag: RawRepresentable, Hashable, Sendable {
        /// libsodium's tag byte.
        public let rawValue: UInt8

        /// Wraps a tag byte, including ones this code never writes.
        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// An ordinary chunk.
        public static let message = Tag(rawValue: 0)
        /// The end of a logical group of chunks (unused by Retract).
        public static let push = Tag(rawValue: 1)
        /// A chunk after which the key is ratcheted (unused by Retract).
        public static let rekey = Tag(rawValue: 2)
        /// The last chunk of the stream.
        public static let final = Tag(rawValue: 3)
    }
}
