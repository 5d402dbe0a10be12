import Foundation

/// The secretstream header and size of one sealed part; its chunks are in its file in the
/// `SealedPartStore`, or, for a part of at most one chunk, in `inlineData`.
public struct SealedPartRecord: Codable, Sendable, Equatable {
    /// The message the part belongs to.
    public var messageId: String
    /// 0 is the envelope, 1… the attachments.
    public var partIndex: Int
    /// The 24-byte secretstream header.
    public var header: Data
    /// How many chunks the part was sealed into.
    public var chunkCount: Int
    /// Plaintext size in bytes, so downloads can announce a length.
    public var plaintextSize: Int64
    /// The part's ciphertext when it is stored in the row instead of a file (at most
    /// `SealedPartStore.inlineLimit` bytes); nil for a part in its file.
    public var inlineData: Data?

    /// Creates a record.
    public init(
        messageId: String, partIndex: Int, header: Data, chunkCount: Int, plaintextSize: Int64, inlineData: Data? = nil
    ) {
        self.messageId = messageId
        self.partIndex = partIndex
        self.header = header
        self.chunkCount = chunkCount
        self.plaintextSize = plaintextSize
        self.inlineData = inlineData
    }
}
