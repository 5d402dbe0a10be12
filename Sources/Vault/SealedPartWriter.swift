import Foundation
import GRDB

/// Seals the parts of one message into staged files, before (and outside) the write
/// transaction that stores the message.
///
/// Handed to the sealing closure of `VaultDatabase.storeSealedMessage`: `beginPart` creates
/// the part's staging file (`<message id>.<part>.<pid>.sealing`) and keeps its header, the
/// chunks are appended to the file, and `finishPart` fsyncs and closes it and keeps the
/// chunk count and size. A part of at most `SealedPartStore.inlineLimit` bytes (one chunk)
/// never gets a file: its bytes are kept and stored in its `sealed_parts` row. None of it touches the database, so sealing 100 MiB holds no lock
/// another sender's revoke would wait for. The transaction then inserts the `sealed_parts`
/// rows and renames the staged files to their names (`PartFileJournal.insertStagedParts`);
/// if anything fails, every file is removed, so a failure leaves nothing stored.
public struct SealedPartWriter {
    let messageID: String
    let files: PartFileJournal

    /// Starts part `index` with its secretstream header: creates its staging file.
    public func beginPart(_ index: Int, header: [UInt8]) throws {
        try files.create(messageID: messageID, part: index, header: header)
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

    /// Fsyncs and closes the file of part `index` and keeps how many chunks and plaintext
    /// bytes it holds.
    public func finishPart(_ index: Int, chunkCount: Int, plaintextSize: Int64) throws {
        try files.finish(messageID: messageID, part: index, chunkCount: chunkCount, plaintextSize: plaintextSize)
    }
}

/// Parts sealed into staging files ahead of the transaction that will store them
/// (`VaultDatabase.stageParts`, then `VaultDatabase.revoke(messageID:adopting:_:)`).
///
/// Files that no transaction adopted, or that its transaction did not store, are removed
/// when this goes away, so an early return or a thrown error leaves nothing behind.
public final class StagedParts: @unchecked Sendable {
    let journal: PartFileJournal
    private var adopted = false

    init(journal: PartFileJournal) {
        self.journal = journal
    }

    /// Hands the files to a transaction, which removes them or keeps them from then on.
    func adopt() -> PartFileJournal {
        adopted = true
        return journal
    }

    deinit {
        if !adopted { journal.rolledBack() }
    }
}

/// The part files one store or revocation creates and deletes: sealed into staging files
/// first, renamed to their names inside the write transaction that inserts their rows, made
/// durable before it commits, removed if anything fails, and unlinked after a commit that
/// deleted their rows.
final class PartFileJournal {
    let store: SealedPartStore
    /// A part sealed (or being sealed) into its staging file.
    private struct Staged {
        var messageID: String
        var part: Int
        var header: [UInt8]
        var stagingPath: String
        var output: SealedPartStore.Output?
        var chunkCount = 0
        var plaintextSize: Int64 = 0
        /// The finished part's bytes when it stayed small enough for its row (no file).
        var inline: Data?
    }
    private var staged: [Staged] = []
    /// Staged parts already inserted and renamed (their final paths), inside a transaction.
    private var placed: [String] = []
    private var doomed: [(messageID: String, parts: [Int])] = []

    init(store: SealedPartStore) {
        self.store = store
    }

    private func position(messageID: String, part: Int) -> Int? {
        staged.firstIndex { $0.messageID == messageID && $0.part == part }
    }

    func create(messageID: String, part: Int, header: [UInt8]) throws {
        let path = try store.stagingPath(messageID: messageID, part: part)
        guard position(messageID: messageID, part: part) == nil else {
            throw VaultError.partFileUnusable(path, reason: "part begun twice")
        }
        staged.append(Staged(messageID: messageID, part: part, header: header, stagingPath: path, output: nil))
        staged[staged.count - 1].output = store.createStagingOrInline(path: path)
    }

    func output(messageID: String, part: Int) throws -> SealedPartStore.Output {
        guard let index = position(messageID: messageID, part: part), let output = staged[index].output else {
            throw VaultError.partFileUnusable(
                SealedPartStore.fileName(messageID: messageID, part: part), reason: "part not begun")
        }
        return output
    }

    func finish(messageID: String, part: Int, chunkCount: Int, plaintextSize: Int64) throws {
        let output = try output(messageID: messageID, part: part)
        try output.syncAndClose()
        let index = position(messageID: messageID, part: part)!
        staged[index].inline = output.inlineBytes.map { Data($0) }
        staged[index].output = nil
        staged[index].chunkCount = chunkCount
        staged[index].plaintextSize = plaintextSize
    }

    /// Inside the write transaction: inserts the rows of the parts staged since the last
    /// call and renames their files to their names. Every part must be finished.
    func insertStagedParts(_ db: Database) throws {
        for part in staged {
            guard part.output == nil else {
                throw VaultError.partFileUnusable(part.stagingPath, reason: "part not finished")
            }
            try SealedPartRecord(
                messageId: part.messageID, partIndex: part.part, header: Data(part.header),
                chunkCount: part.chunkCount, plaintextSize: part.plaintextSize, inlineData: part.inline
            ).insert(db)
            // A small part is stored in its row: there is no file to place.
            guard part.inline == nil else { continue }
            let path = try store.path(messageID: part.messageID, part: part.part)
            try store.rename(part.stagingPath, to: path)
            placed.append(path)
        }
        staged = []
    }

    /// Removes the staged parts the transaction did not insert (a replacement that was not
    /// stored after all).
    func abandonUnstored() {
        for part in staged { part.output?.close() }
        store.remove(paths: staged.map(\.stagingPath))
        staged = []
    }

    /// Marks the files of a message's parts for unlinking once the transaction commits.
    func unlinkAfterCommit(messageID: String, parts: [Int]) {
        doomed.append((messageID, parts))
    }

    /// Run last inside the transaction: every staged part must have been inserted, and the
    /// directory is fsynced so the renamed names survive a crash once the rows commit.
    func prepareCommit() throws {
        if let part = staged.first { throw VaultError.partFileUnusable(part.stagingPath, reason: "part not stored") }
        if !placed.isEmpty { try store.syncDirectory() }
    }

    /// After the transaction committed: unlinks the files of deleted parts.
    func committed() {
        placed = []
        for (messageID, parts) in doomed { store.remove(messageID: messageID, parts: parts) }
        if !doomed.isEmpty { try? store.syncDirectory() }
    }

    /// After a failure (sealing or the transaction): removes every file it created.
    func rolledBack() {
        for part in staged { part.output?.close() }
        store.remove(paths: staged.map(\.stagingPath) + placed)
        staged = []
        placed = []
    }
}
