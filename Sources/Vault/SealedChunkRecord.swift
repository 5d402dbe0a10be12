import Foundation
import GRDB

/// One ciphertext chunk of a sealed part (at most 64 KiB of plaintext plus 17 bytes).
///
/// Parts are stored chunk by chunk so that neither sealing nor opening ever holds a whole
/// attachment in memory, and so a part of any size stays under SQLite's blob limit.
public struct SealedChunkRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sealed_chunks"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// The message the chunk belongs to.
    public var messageId: String
    /// The part the chunk belongs to.
    public var partIndex: Int
    /// Position of the chunk in its part, from 0.
    public var chunkIndex: Int
    /// The ciphertext.
    public var data: Data

    /// Creates a record.
    public init(messageId: String, partIndex: Int, chunkIndex: Int, data: Data) {
        self.messageId = messageId
        self.partIndex = partIndex
        self.chunkIndex = chunkIndex
        self.data = data
    }
}
