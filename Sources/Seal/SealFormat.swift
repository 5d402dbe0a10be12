/// Constants of the sealed-message format (docs/crypto.md).
public enum SealFormat {
    /// Plaintext bytes in every non-final chunk of a part stream; the final chunk holds 0...chunkSize.
    public static let chunkSize = 65_536
    /// Bytes secretstream adds to each chunk (tag byte plus MAC).
    public static let chunkOverhead = 17
    /// Ciphertext bytes of every non-final chunk, so a concatenated part splits every this many bytes.
    public static let sealedChunkSize = chunkSize + chunkOverhead
    /// Bytes of a part stream header.
    public static let partHeaderSize = 24
    /// Bytes of a sealed share and of a wrapped data key: nonce 24 + key 32 + tag 16.
    public static let sealedKeySize = 72
    /// The format version, also the suffix of every domain string.
    public static let version = "v1"
}
