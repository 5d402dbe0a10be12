import Foundation

/// A bounded single-producer, single-consumer queue of chunk buffers, allocated once and
/// reused: the producer fills a slot and submits its byte count, the consumer reads slots in
/// order and releases them. Memory is `depth × slotSize` whatever passes through.
///
/// Negative counts are marks the two sides agree on (end of stream, failure). `cancel()`
/// makes a blocked or later `acquire()` return nil, so a consumer that gave up never leaves
/// its producer waiting.
final class ChunkRing: @unchecked Sendable {
    let slotSize: Int
    let depth: Int
    private let storage: UnsafeMutableRawPointer
    private var counts: [Int]
    private var head = 0  // next slot to consume
    private var tail = 0  // next slot to produce
    private var cancelled = false
    private let condition = NSCondition()

    init(slotSize: Int, depth: Int) {
        self.slotSize = slotSize
        self.depth = depth
        storage = UnsafeMutableRawPointer.allocate(byteCount: slotSize * depth, alignment: 64)
        counts = [Int](repeating: 0, count: depth)
    }

    deinit { storage.deallocate() }

    /// The next free slot, waiting while the ring is full; nil once cancelled.
    func acquire() -> UnsafeMutableRawBufferPointer? {
        condition.lock()
        defer { condition.unlock() }
        while tail - head == depth && !cancelled { condition.wait() }
        if cancelled { return nil }
        return UnsafeMutableRawBufferPointer(start: storage + (tail % depth) * slotSize, count: slotSize)
    }

    /// Hands the slot last acquired to the consumer with `count` bytes (or a negative mark).
    func submit(_ count: Int) {
        condition.lock()
        counts[tail % depth] = count
        tail += 1
        condition.broadcast()
        condition.unlock()
    }

    /// The slot `offset` places after the oldest unreleased one (0 or 1) and its count,
    /// waiting until it is submitted.
    func peek(_ offset: Int = 0) -> (bytes: UnsafeRawBufferPointer, count: Int) {
        precondition(offset < depth)
        condition.lock()
        defer { condition.unlock() }
        while tail - head <= offset { condition.wait() }
        let index = (head + offset) % depth
        let count = counts[index]
        return (UnsafeRawBufferPointer(start: storage + index * slotSize, count: max(count, 0)), count)
    }

    /// Frees the oldest slot.
    func release() {
        condition.lock()
        head += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Makes every `acquire()` return nil from now on.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
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
