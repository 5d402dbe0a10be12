import Foundation
import GRDB

/// Stores the parts of one message inside the transaction that stores the message.
///
/// Handed to the sealing closure of `VaultDatabase.storeSealedMessage`: `beginPart` inserts
/// the part's row (header) and creates its file in the `SealedPartStore`, the chunks are
/// appended to the file, and `finishPart` fsyncs and closes the file and records the chunk
/// count and size. The transaction fsyncs the parts directory before it commits; if it
/// fails, every file it created is removed, so a failure anywhere leaves nothing stored.
public struct SealedPartWriter {
    let db: Database
    let messageID: String
    let files: PartFileJournal

    /// Starts part `index` with its secretstream header: inserts its row and creates its file.
    public func beginPart(_ index: Int, header: [UInt8]) throws {
        try SealedPartRecord(
            messageId: messageID, partIndex: index, header: Data(header), chunkCount: 1, plaintextSize: 0
        ).insert(db)
        try files.create(messageID: messageID, part: index)
    }

    /// The file of part `index` (begun, not yet finished), for appending chunks from another
    /// thread; only one thread may append at a time, and `finishPart` comes after the last.
    public func output(forPart index: Int) throws -> SealedPartStore.Output {
        try files.output(messageID: messageID, part: index)
    }

    /// Appends chunk `chunkIndex` of part `partIndex`; chunks come in order from 0.
    public func appendChunk(partIndex: Int, chunkIndex: Int, ciphertext: [UInt8]) throws {
        let output = try output(forPart: partIndex)
        guard output.size == Int64(chunkIndex) * Int64(SealedPartStore.sealedChunkSize) else {
            throw VaultError.partFileUnusable(output.path, reason: "chunk \(chunkIndex) appended out of order")
        }
        try output.append(ciphertext)
    }

    /// Fsyncs and closes the file of part `index` and records how many chunks and plaintext
    /// bytes it holds.
    public func finishPart(_ index: Int, chunkCount: Int, plaintextSize: Int64) throws {
        try files.finish(messageID: messageID, part: index)
        try db.execute(
            sql: "UPDATE sealed_parts SET chunk_count = ?, plaintext_size = ? WHERE message_id = ? AND part_index = ?",
            arguments: [chunkCount, plaintextSize, messageID, index])
    }
}

/// The part files one write transaction creates and deletes, so they can be made durable
/// before it commits, removed if it fails, and unlinked after it commits.
final class PartFileJournal {
    let store: SealedPartStore
    private var open: [String: SealedPartStore.Output] = [:]
    private var created: [String] = []
    private var doomed: [(messageID: String, parts: [Int])] = []

    init(store: SealedPartStore) {
        self.store = store
    }

    func create(messageID: String, part: Int) throws {
        let path = try store.path(messageID: messageID, part: part)
        guard open[path] == nil else { throw VaultError.partFileUnusable(path, reason: "part begun twice") }
        created.append(path)
        open[path] = try store.create(messageID: messageID, part: part)
    }

    func output(messageID: String, part: Int) throws -> SealedPartStore.Output {
        let path = try store.path(messageID: messageID, part: part)
        guard let output = open[path] else { throw VaultError.partFileUnusable(path, reason: "part not begun") }
        return output
    }

    func finish(messageID: String, part: Int) throws {
        let output = try output(messageID: messageID, part: part)
        try output.syncAndClose()
        open[output.path] = nil
    }

    /// Marks the files of a message's parts for unlinking once the transaction commits.
    func unlinkAfterCommit(messageID: String, parts: [Int]) {
        doomed.append((messageID, parts))
    }

    /// Run last inside the transaction: every created file must be finished, and the
    /// directory is fsynced so their names survive a crash once the rows commit.
    func prepareCommit() throws {
        if let path = open.keys.first { throw VaultError.partFileUnusable(path, reason: "part not finished") }
        if !created.isEmpty { try store.syncDirectory() }
    }

    /// After the transaction committed: unlinks the files of deleted parts.
    func committed() {
        for (messageID, parts) in doomed { store.remove(messageID: messageID, parts: parts) }
        if !doomed.isEmpty { try? store.syncDirectory() }
    }

    /// After the transaction failed: removes every file it created.
    func rolledBack() {
        for output in open.values { output.close() }
        open = [:]
        store.remove(paths: created)
    }
}
