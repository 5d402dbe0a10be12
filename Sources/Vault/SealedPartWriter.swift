import Foundation
import GRDB

/// Stores the parts of one message inside the transaction that stores the message.
///
/// Handed to the sealing closure of `VaultDatabase.storeSealedMessage`, so a part is written
/// chunk by chunk while it is sealed and a failure anywhere rolls the whole message back.
public struct SealedPartWriter {
    let db: Database
    let messageID: String

    /// Starts part `index` with its secretstream header.
    public func beginPart(_ index: Int, header: [UInt8]) throws {
        try SealedPartRecord(
            messageId: messageID, partIndex: index, header: Data(header), chunkCount: 1, plaintextSize: 0
        ).insert(db)
    }

    /// Appends chunk `chunkIndex` of part `partIndex`.
    public func appendChunk(partIndex: Int, chunkIndex: Int, ciphertext: [UInt8]) throws {
        try db.execute(
            sql: "INSERT INTO sealed_chunks (message_id, part_index, chunk_index, data) VALUES (?, ?, ?, ?)",
            arguments: [messageID, partIndex, chunkIndex, Data(ciphertext)])
    }

    /// Records how many chunks and plaintext bytes part `index` holds.
    public func finishPart(_ index: Int, chunkCount: Int, plaintextSize: Int64) throws {
        try db.execute(
            sql: "UPDATE sealed_parts SET chunk_count = ?, plaintext_size = ? WHERE message_id = ? AND part_index = ?",
            arguments: [chunkCount, plaintextSize, messageID, index])
    }
}
