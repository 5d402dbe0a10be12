import Foundation
import Sodium

#if canImport(Glibc)
    import Glibc
#endif

/// The content of every benchmark attachment: one random MiB repeated, so a file of any size
/// is written fast and every decrypted byte can be checked against it while it streams.
///
/// Random rather than zeros so that nothing on the way (a file system, a compressor) can
/// take a shortcut; the cipher's speed does not depend on the content.
struct PatternFile {
    /// Bytes in the repeated block.
    static let blockSize = 1 << 20

    /// The repeated block.
    let block: [UInt8]

    /// A fresh random block.
    init() {
        block = Random.bytes(Self.blockSize)
    }

    /// Writes `size` bytes of the pattern to a new file at `path`.
    func write(to path: String, size: Int64) throws(BenchError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw BenchError("cannot create \(path): \(POSIX.lastError)") }
        defer { close(fd) }
        var remaining = size
        while remaining > 0 {
            let count = Int(min(Int64(Self.blockSize), remaining))
            try block.withBytes { (bytes) throws(BenchError) in
                try POSIX.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<count]), path: path)
            }
            remaining -= Int64(count)
        }
    }

    /// Fills `buffer` with the pattern from offset 0.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        block.withUnsafeBytes { source in
            while offset < buffer.count {
                let count = min(Self.blockSize, buffer.count - offset)
                (buffer.baseAddress! + offset).copyMemory(from: source.baseAddress!, byteCount: count)
                offset += count
            }
        }
    }

    /// Whether `bytes` equal the file's content starting at `offset`.
    func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
        var checked = 0
        var position = Int(offset % Int64(Self.blockSize))
        return block.withUnsafeBytes { expected in
            while checked < bytes.count {
                let count = min(bytes.count - checked, Self.blockSize - position)
                if memcmp(bytes.baseAddress! + checked, expected.baseAddress! + position, count) != 0 { return false }
                checked += count
                position = 0
            }
            return true
        }
    }
}
