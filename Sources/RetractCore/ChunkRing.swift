import Foundation
import Seal

/// The buffers and the hand-over state of the sealing pipeline: `depth` slots of up to
/// `chunksPerSlot` sealed chunks each, allocated once and reused in turn, so memory is
/// `depth × slotSize` whatever the size of the file.
///
/// Each slot goes through three stages, always in this order: the I/O thread *fills* it with
/// plaintext, the sealer *seals* it in place, the I/O thread *writes* it to the part file and
/// so frees it. Chunk `j` of a slot starts at `j × sealedChunkSize` and its plaintext is read
/// one byte further on (`plaintextRange(ofChunk:)`), where
/// `PartSealer.sealChunkInPlace(_:plaintextCount:isFinal:)` expects it; sealed, the chunks
/// lie back to back and a slot goes to the file in one write(2). Three counters say how many
/// slots have passed each stage; slot number `n` uses buffer `n % depth`.
///
/// One thread does all the I/O, because on a 2-core machine the sealer needs one core to
/// itself and reading and writing together take well under the other. The threads meet on
/// one condition variable once per slot (16 chunks, about 1 MiB), not once per chunk.
final class ChunkRing: @unchecked Sendable {
    /// What the I/O thread should do next.
    enum IOStep {
        /// Read plaintext into slot number `slot`, whose buffer is `buffer`.
        case fill(slot: Int, buffer: UnsafeMutableRawBufferPointer)
        /// Write `bytes`, the sealed chunks of slot number `slot`, to the part file.
        case write(slot: Int, bytes: UnsafeRawBufferPointer)
        /// Stop: everything sealed is written, or the pipeline failed or was cancelled.
        case stop
    }

    /// Sealed chunks per slot.
    let chunksPerSlot: Int
    /// Slots in the ring.
    let depth: Int
    /// Filled slots the I/O thread keeps ahead of the sealer before it turns to writing.
    let fillAhead: Int
    /// Bytes between the starts of two slots: the slot's sealed chunks, rounded up to pages.
    let slotStride: Int
    /// Plaintext bytes a full slot holds.
    var plaintextCapacity: Int { chunksPerSlot * SealFormat.chunkSize }

    private let storage: UnsafeMutableRawPointer
    private var filledBytes: [Int]
    private var sealedBytes: [Int]
    private var filled = 0
    private var sealed = 0
    private var written = 0
    private var inputEnded = false
    private var sealingEnded = false
    private var stopped = false
    private var failure: (any Error)?
    private let condition = NSCondition()

    init(chunksPerSlot: Int, depth: Int, fillAhead: Int) {
        precondition(chunksPerSlot >= 1 && depth >= 2 && fillAhead >= 1 && fillAhead < depth, "bad ring shape")
        self.chunksPerSlot = chunksPerSlot
        self.depth = depth
        self.fillAhead = fillAhead
        let page = 4096
        slotStride = (chunksPerSlot * SealFormat.sealedChunkSize + page - 1) / page * page
        storage = UnsafeMutableRawPointer.allocate(byteCount: slotStride * depth, alignment: page)
        filledBytes = [Int](repeating: 0, count: depth)
        sealedBytes = [Int](repeating: 0, count: depth)
    }

    deinit { storage.deallocate() }

    /// Where the plaintext of chunk `index` goes inside a slot's buffer: one byte after the
    /// start of its sealed chunk, `SealFormat.chunkSize` bytes long.
    static func plaintextRange(ofChunk index: Int) -> Range<Int> {
        let start = index * SealFormat.sealedChunkSize + 1
        return start..<(start + SealFormat.chunkSize)
    }

    private func buffer(_ slot: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: storage + (slot % depth) * slotStride, count: slotStride)
    }

    // MARK: The I/O thread

    /// Waits for the next step of the I/O thread. Filling comes first while fewer than
    /// `fillAhead` filled slots wait for the sealer (it must never wait for input), writing
    /// next, then filling any free slot left.
    func nextIOStep() -> IOStep {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped || failure != nil { return .stop }
            let canFill = !inputEnded && filled - written < depth
            let canWrite = sealed > written
            if canFill && (filled - sealed < fillAhead || !canWrite) {
                return .fill(slot: filled, buffer: buffer(filled))
            }
            if canWrite {
                let bytes = UnsafeRawBufferPointer(start: buffer(written).baseAddress, count: sealedBytes[written % depth])
                return .write(slot: written, bytes: bytes)
            }
            if sealingEnded { return .stop }
            condition.wait()
        }
    }

    /// Slot `slot` (the one `nextIOStep` handed out) holds `bytes` plaintext bytes; fewer
    /// than `plaintextCapacity` means the input ended.
    func didFill(_ slot: Int, bytes: Int) {
        condition.lock()
        precondition(slot == filled, "slots are filled in order")
        filledBytes[slot % depth] = bytes
        if bytes < plaintextCapacity { inputEnded = true }
        filled += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Slot `slot` is in the file; its buffer is free.
    func didWrite(_ slot: Int) {
        condition.lock()
        precondition(slot == written, "slots are written in order")
        written += 1
        condition.broadcast()
        condition.unlock()
    }

    // MARK: The sealer

    /// Waits until slot `slot` is filled; returns its buffer and plaintext byte count. Throws
    /// the I/O thread's error if it failed.
    func waitFilled(_ slot: Int) throws -> (buffer: UnsafeMutableRawBufferPointer, bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        precondition(slot >= sealed && slot < sealed + depth, "only slots not yet sealed can be waited for")
        while filled <= slot && failure == nil && !stopped { condition.wait() }
        if let failure { throw failure }
        if stopped { throw CancellationError() }
        return (buffer(slot), filledBytes[slot % depth])
    }

    /// The oldest filled slot is sealed: its first `bytes` bytes go to the file.
    func didSeal(bytes: Int) {
        condition.lock()
        sealedBytes[sealed % depth] = bytes
        sealed += 1
        condition.broadcast()
        condition.unlock()
    }

    /// No slot will be sealed any more: the I/O thread stops once it wrote the sealed ones.
    func endSealing() {
        condition.lock()
        sealingEnded = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Either side

    /// Records the first failure; both sides stop at their next step.
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// Makes both sides stop at their next step, without an error of its own.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// The first failure recorded, if any.
    var error: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }
}

/// Runs `body` on a new thread; `join()` waits until it returned.
final class JoinableThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private var joined = false

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let finished = self.finished
        let thread = Thread {
            body()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    func join() {
        guard !joined else { return }
        finished.wait()
        joined = true
    }
}
