import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The content of one message on its way to disk: a file of its own (mode 0600, under the
/// server's spool directory), written in blocks of 64 KiB as the lines arrive, so a
/// message is never whole in memory.
///
/// A connection reuses its file from one message to the next (`init(reusing:…)` after
/// `release()`): truncated, not unlinked and created again, since creating an inode per
/// message was a large share of the gateway's kernel time under load (ext4's search for a
/// free inode past the recently deleted ones; docs/performance.md, "SMTP gateway").
///
/// Bytes are counted as they come. Past the size limit the file is removed at once and the
/// rest is counted but not kept (the client still sends it all before the 552). A failed
/// write (a full disk) is remembered and also discards the rest: the message then gets 451.
final class SMTPContentSpool {
    /// How the content ended up.
    enum Outcome: Equatable {
        /// Complete, in `file`.
        case stored(file: URL, size: Int64)
        /// Larger than the limit; nothing kept.
        case tooLarge
        /// It could not be written; nothing kept.
        case failed(SMTPServerError)
    }

    private static let blockSize = 64 * 1024

    /// The file the content goes to.
    let file: URL
    private let limit: Int64
    private var descriptor: Int32
    private var pending: ByteBuffer
    private var size: Int64 = 0
    private var failure: SMTPServerError?
    /// Given back by `release()`: the file belongs to the connection now, not to this spool.
    private var released = false

    /// Creates a new, empty file under `directory` for content of at most `limit` bytes,
    /// or, with `reusing`, empties that file (an earlier message's of this connection, handed
    /// back by `release()`) and writes into it; a file that has gone meanwhile is made anew.
    init(directory: URL, limit: Int64, reusing previous: URL? = nil) throws(SMTPServerError) {
        self.limit = limit
        self.pending = ByteBuffer()
        self.pending.reserveCapacity(Self.blockSize)
        if let previous {
            let reopened = open(previous.path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)
            if reopened >= 0 {
                self.file = previous
                self.descriptor = reopened
                return
            }
        }
        self.file = directory.appendingPathComponent("incoming-\(UUID().uuidString).eml")
        self.descriptor = open(self.file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard self.descriptor >= 0 else {
            throw SMTPServerError.spoolFailed.with(
                "cannot create \(self.file.path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if !self.released { self.discard() }
    }

    /// Adds one piece of content.
    func append(_ chunk: ByteBuffer) {
        self.size += Int64(chunk.readableBytes)
        guard self.descriptor >= 0 else { return }
        guard self.size <= self.limit else {
            self.discard()
            return
        }
        var chunk = chunk
        self.pending.writeBuffer(&chunk)
        if self.pending.readableBytes >= Self.blockSize { self.flush() }
    }

    /// Ends the content: the file holds all of it, or it is gone.
    func finish() -> Outcome {
        if self.size > self.limit { return .tooLarge }
        if let failure { return .failed(failure) }
        self.flush()
        if let failure { return .failed(failure) }
        close(self.descriptor)
        self.descriptor = -1
        return .stored(file: self.file, size: self.size)
    }

    /// Closes and removes the file (whatever state it is in).
    func discard() {
        if self.descriptor >= 0 {
            close(self.descriptor)
            self.descriptor = -1
        }
        self.pending.clear()
        unlink(self.file.path)
    }

    /// After the message was handed over: empties the file at once (no message stays on
    /// disk while the connection idles) and gives it back for the connection's next
    /// message; nil (and the file removed) when it cannot be emptied.
    func release() -> URL? {
        if self.descriptor >= 0 {
            close(self.descriptor)
            self.descriptor = -1
        }
        self.pending.clear()
        guard truncate(self.file.path, 0) == 0 else {
            unlink(self.file.path)
            return nil
        }
        self.released = true
        return self.file
    }

    private func flush() {
        while self.pending.readableBytes > 0 && self.descriptor >= 0 {
            let written = self.pending.withUnsafeReadableBytes { raw in
                write(self.descriptor, raw.baseAddress, raw.count)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                self.failure = SMTPServerError.spoolFailed.with(
                    "cannot write \(self.file.path): \(String(cString: strerror(errno)))")
                self.discard()
                return
            }
            self.pending.moveReaderIndex(forwardBy: written)
        }
        self.pending.clear()
    }
}
