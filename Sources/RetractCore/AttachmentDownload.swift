import Foundation
import Seal
import Vault

/// One attachment being decrypted chunk by chunk for a reader.
///
/// Holds the data key only as long as the download runs. The part's file is read in
/// batches of `batchChunks` chunks (about 1 MiB) into two reused buffers: while the chunks
/// of one batch are opened, the next batch is read on another thread. Memory stays at two
/// batches plus one plaintext chunk.
///
/// Before it hands out the first chunk of each later batch it asks the vault whether the
/// grant is still live (one indexed read per MiB): a revocation that commits during a
/// download stops it within one batch, and the opener (the secretstream state derived from
/// the data key, zeroed when released) and the open file are dropped at once.
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
    private let grantID: Int64
    private let part: SealedPartRecord
    private let chunkCount: Int
    private var opener: PartOpener?
    private var nextIndex = 0
    private var failed = false
    private var input: SealedPartStore.Input?
    private var current: BatchBuffer?
    private var spare: BatchBuffer?
    private var prefetch: Task<Result<BatchBuffer, BatchFailure>, Never>?

    init(info: AttachmentInfo, vault: VaultDatabase, grantID: Int64, part: SealedPartRecord, opener: PartOpener) {
        self.name = info.name
        self.mediaType = info.mediaType
        self.size = info.size
        self.vault = vault
        self.grantID = grantID
        self.part = part
        self.chunkCount = part.chunkCount
        self.opener = opener
    }

    deinit { prefetch?.cancel() }

    /// The next plaintext chunk, or nil after the last one.
    ///
    /// Throws `OpenFailure.revoked` when the grant was revoked since the download began
    /// (checked once per batch), and `OpenFailure.damaged` when a chunk fails to
    /// authenticate, is missing, or the part ends without its final chunk.
    public func nextChunk() async throws(OpenFailure) -> [UInt8]? {
        guard !failed else { throw .damaged }
        guard nextIndex < chunkCount else { return nil }
        guard let opener else { throw .damaged }
        do {
            let batch = try await batch(containing: nextIndex)
            let (plaintext, isFinal) = try batch.withChunk(nextIndex) { ciphertext throws(SealError) in
                try opener.openChunk(ciphertext)
            }
            nextIndex += 1
            if nextIndex == chunkCount {
                guard isFinal else { throw OpenFailure.damaged }
                try opener.finish()
                stop()
            } else if isFinal {
                throw OpenFailure.damaged
            }
            return plaintext
        } catch {
            failed = true  // every later call fails too
            stop()
            if let revoked = error as? Revoked {
                throw .revoked(at: revoked.at, reason: revoked.reason, replaced: revoked.replaced)
            }
            throw .damaged
        }
    }

    /// Lets go of the opener (zeroing its state), the file and the buffers.
    private func stop() {
        prefetch?.cancel()
        prefetch = nil
        opener = nil
        input = nil
        current = nil
        spare = nil
    }

    /// The grant was revoked while the download ran.
    private struct Revoked: Error {
        var at: Date
        var reason: String?
        var replaced: Bool
    }

    /// Throws `Revoked` when the grant is no longer live.
    private func checkGrantIsLive() throws {
        if let revocation = try vault.revocation(grantID: grantID) {
            throw Revoked(at: revocation.at, reason: revocation.reason, replaced: revocation.replaced)
        }
    }

    /// The batch holding chunk `index`, reading (or awaiting the prefetch of) it when the
    /// current batch is used up, and starting the prefetch of the one after.
    private func batch(containing index: Int) async throws -> BatchBuffer {
        if let current, current.chunks.contains(index) { return current }
        // The first batch was read right after the grant was checked; each later one asks again.
        if index > 0 { try checkGrantIsLive() }
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
