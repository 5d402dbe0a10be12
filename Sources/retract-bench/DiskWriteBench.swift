import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The disk's durable write speed: the bytes of one attachment written with write(2) in
/// 64 KiB chunks, then `fdatasync`, as `dd conv=fdatasync` would.
///
/// A send is durable only once its ciphertext is on disk, so this is a ceiling for any
/// durable send, however fast the cipher: the full path cannot beat it even if sealing and
/// writing overlapped perfectly.
struct DiskWriteBench {
    /// The file to write (replaced on every run and removed after it).
    let path: String
    /// Bytes per run.
    let size: Int64
    /// The bytes written.
    let pattern: PatternFile
    /// One durable write of `size` bytes; returns its seconds.
    func runOnce() throws(BenchError) -> Double {
        unlink(path)
        defer { unlink(path) }
        return try Stopwatch.measure { () throws(BenchError) in
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { throw BenchError("cannot create \(path): \(POSIX.lastError)") }
            defer { close(fd) }
            var written: Int64 = 0
            try pattern.block.withBytes { (block) throws(BenchError) in
                while written < size {
                    let offset = Int(written % Int64(PatternFile.blockSize))
                    let count = Int(min(Int64(65_536), size - written, Int64(PatternFile.blockSize - offset)))
                    try POSIX.writeAll(
                        fd, UnsafeRawBufferPointer(rebasing: block[offset..<(offset + count)]), path: path)
                    written += Int64(count)
                }
            }
            guard fdatasync(fd) == 0 else { throw BenchError("fdatasync \(path): \(POSIX.lastError)") }
        }.1
    }
}
