import Foundation
import Seal
import Vault

/// One attachment being decrypted chunk by chunk for a reader.
///
/// Holds the data key only as long as the download runs. The part's file is read in
/// batches of `batchChunks` chunks (about 1 MiB) into two reused buffers: while the chunks
/// of one batch are opened, the next batch is read on another thread. Memory stays at two
/// batches plus one plaintext chunk.
public final class AttachmentDownload: @unchecked Sendable {
    /// The file name the sender attached.
    public let name: String
    /// Its media type.
    public let mediaType: String
    /// Its plaintext size in bytes.
    public let size: Int64

    /// Chunks read from the part file at once.
    static let batchChunks = 16

    private let vault: VaultDatabase
    private let part: SealedPartRecord
    private let chunkCount: Int
    private let opener: PartOpener
    private var nextIndex = 0
    private var failed = false
    private var input: SealedPartStore.Input?
    private var current: BatchBuffer?
    private var spare: BatchBuffer?
    private var prefetch: Task<Result<BatchBuffer, BatchFailure>, Never>?

    init(info: AttachmentInfo, vault: VaultDatabase, messageID: String, part: SealedPartRecord, opener: PartOpener) {
        self.name = info.name
        self.mediaType = info.mediaType
        self.size = info.size
        self.vault = vault
        self.part = part
        self.chunkCount = part.chunkCount
        self.opener = opener
    }

    deinit { prefetch?.cancel() }

    /// The next plaintext chunk, or nil after the last one.
    ///
    /// Throws `OpenFailure.damaged` when a chunk fails to authenticate, is missing (the
    /// message was revoked meanwhile), or the part ends without its final chunk.
    public func nextChunk() async throws(OpenFailure) -> [UInt8]? {
        guard !failed else { throw .damaged }
        guard nextIndex < chunkCount else { return nil }
        do {
            let batch = try await batch(containing: nextIndex)
            let (plaintext, isFinal) = try batch.withChunk(nextIndex) { ciphertext throws(SealError) in
                try opener.openChunk(ciphertext)
            }
            nextIndex += 1
            if nextIndex == chunkCount {
                guard isFinal else { throw OpenFailure.damaged }
                try opener.finish()
                input = nil
                current = nil
                spare = nil
            } else if isFinal {
                throw OpenFailure.damaged
            }
            return plaintext
        } catch {
            failed = true  // every later call fails too
            prefetch?.cancel()
            prefetch = nil
            input = nil
            throw .damaged
        }
    }

    /// The batch holding chunk `index`, reading (or awaiting the prefetch of) it when the
    /// current batch is used up, and starting the prefetch of the one after.
    private func batch(containing index: Int) async throws -> BatchBuffer {
        if let current, current.chunks.contains(index) { return current }
        let input = try openInput()
        let range = index..<min(index + Self.batchChunks, chunkCount)
        let batch: BatchBuffer
        if let pending = prefetch {
            prefetch = nil
            batch = try await pending.value.get()
            guard batch.chunks == range else { throw BatchFailure() }
        } else {
            batch = spare ?? BatchBuffer()
            spare = nil
            try batch.fill(from: input, chunks: range)
        }
        if let previous = current { spare = previous }
        current = batch
        if range.upperBound < chunkCount {
            let nextRange = range.upperBound..<min(range.upperBound + Self.batchChunks, chunkCount)
            let buffer = spare ?? BatchBuffer()
            spare = nil
            prefetch = Task.detached {
                do {
                    try buffer.fill(from: input, chunks: nextRange)
                    return .success(buffer)
                } catch {
                    return .failure(BatchFailure())
                }
            }
        }
        return batch
    }

    private func openInput() throws -> SealedPartStore.Input {
        if let input { return input }
        let opened = try vault.openSealedPart(part)
        input = opened
        return opened
    }
}

/// A read of a part file that failed.
struct BatchFailure: Error {}

/// A reused buffer holding a run of consecutive sealed chunks of one part file.
final class BatchBuffer: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private(set) var chunks: Range<Int> = 0..<0
    private var offsets: [Int] = []
    private var sizes: [Int] = []

    init() {
        storage = .allocate(
            byteCount: AttachmentDownload.batchChunks * SealedPartStore.sealedChunkSize, alignment: 64)
    }

    deinit { storage.deallocate() }

    /// Reads `range` from `input`.
    func fill(from input: SealedPartStore.Input, chunks range: Range<Int>) throws {
        chunks = 0..<0
        sizes = try input.read(chunks: range, into: storage)
        offsets = []
        var offset = 0
        for size in sizes {
            offsets.append(offset)
            offset += size
        }
        chunks = range
    }

    /// Runs `body` over the ciphertext of chunk `index`.
    func withChunk<T>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws(SealError) -> T) throws(SealError) -> T {
        let position = index - chunks.lowerBound
        return try body(
            UnsafeRawBufferPointer(rebasing: storage[offsets[position]..<(offsets[position] + sizes[position])]))
    }
}
