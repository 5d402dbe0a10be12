import Foundation
import Logging
import NIOCore
import PostgresNIO
import Vault

/// Writes the sealed parts of one message into `sealed_parts` and `sealed_chunks`, inside
/// the transaction that stores the message, a batch of chunks at a time.
///
/// The PostgreSQL counterpart of `SealedPartWriter`, handed to the sealing closure of
/// `PostgresVaultDatabase.storeSealedMessage`: `beginPart` inserts the part's row with its
/// header, `appendChunk` keeps at most `batchChunks` chunks (about 1 MiB) before it inserts
/// them in one statement, and `finishPart` inserts the rest and records the chunk count and
/// plaintext size. So an attachment of any size streams through memory a megabyte at a
/// time, and every row is in the message's transaction: if sealing or anything after it
/// fails, the rollback leaves no part and no chunk behind.
///
/// It must not be kept beyond the sealing closure (its connection goes back to the pool).
///
/// Unlike SQLite, a long send holds no lock another node's revoke waits for: the new rows
/// are invisible to other transactions until the commit, and nothing else is locked.
public final class PostgresSealedPartWriter {
    /// Chunks inserted per statement (65,553 bytes each: about 1 MiB).
    public static let batchChunks = 16

    let messageID: String
    private let connection: PostgresConnection
    private let logger: Logger

    private struct Part {
        var nextChunk = 0
        var pending: [[UInt8]] = []
        var finished = false
    }
    private var parts: [Int: Part] = [:]

    init(messageID: String, connection: PostgresConnection, logger: Logger) {
        self.messageID = messageID
        self.connection = connection
        self.logger = logger
    }

    /// Starts part `index` with its secretstream header.
    public func beginPart(_ index: Int, header: [UInt8]) async throws {
        guard parts[index] == nil else { throw PostgresVaultError.partOutOfOrder(messageID: messageID, part: index, reason: "begun twice") }
        parts[index] = Part()
        // chunk_count is set by finishPart (the schema wants at least 1 meanwhile).
        try await connection.query(
            """
            INSERT INTO sealed_parts (message_id, part_index, header, chunk_count, plaintext_size)
            VALUES (\(messageID), \(Int64(index)), \(ByteBuffer(bytes: header)), 1, 0)
            """, logger: logger)
    }

    /// Appends chunk `chunkIndex` of part `partIndex`; chunks come in order from 0.
    public func appendChunk(partIndex: Int, chunkIndex: Int, ciphertext: [UInt8]) async throws {
        guard var part = parts[partIndex], !part.finished else {
            throw PostgresVaultError.partOutOfOrder(messageID: messageID, part: partIndex, reason: "not begun, or finished")
        }
        guard chunkIndex == part.nextChunk else {
            throw PostgresVaultError.partOutOfOrder(
                messageID: messageID, part: partIndex, reason: "chunk \(chunkIndex) appended out of order")
        }
        part.pending.append(ciphertext)
        part.nextChunk += 1
        parts[partIndex] = part
        if part.pending.count >= Self.batchChunks { try await flush(partIndex) }
    }

    /// Inserts the part's remaining chunks and records how many chunks and plaintext bytes
    /// it holds; `chunkCount` must be the number of chunks appended.
    public func finishPart(_ index: Int, chunkCount: Int, plaintextSize: Int64) async throws {
        guard let part = parts[index], !part.finished else {
            throw PostgresVaultError.partOutOfOrder(messageID: messageID, part: index, reason: "not begun, or finished twice")
        }
        guard chunkCount == part.nextChunk, chunkCount >= 1 else {
            throw PostgresVaultError.partOutOfOrder(
                messageID: messageID, part: index, reason: "\(part.nextChunk) chunks appended, \(chunkCount) announced")
        }
        try await flush(index)
        parts[index]?.finished = true
        try await connection.query(
            """
            UPDATE sealed_parts SET chunk_count = \(Int64(chunkCount)), plaintext_size = \(plaintextSize)
            WHERE message_id = \(messageID) AND part_index = \(Int64(index))
            """, logger: logger)
    }

    /// Throws unless every begun part was finished (run before the transaction commits).
    func checkFinished() throws {
        if let (index, _) = parts.first(where: { !$0.value.finished }) {
            throw PostgresVaultError.partOutOfOrder(messageID: messageID, part: index, reason: "not finished")
        }
    }

    private func flush(_ index: Int) async throws {
        guard let part = parts[index], !part.pending.isEmpty else { return }
        let first = part.nextChunk - part.pending.count
        parts[index]?.pending = []
        try await PostgresVaultDatabase.insertRows(
            Array(part.pending.enumerated()), columns: 4, into: "sealed_chunks (message_id, part_index, chunk_index, data)",
            on: connection, logger: logger
        ) { binds, chunk in
            binds.append(messageID)
            binds.append(Int64(index))
            binds.append(Int64(first + chunk.offset))
            binds.append(ByteBuffer(bytes: chunk.element))
        }
    }
}
