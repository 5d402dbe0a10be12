import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The few raw system calls the benchmark makes, each turning a failure into a `BenchError`.
enum POSIX {
    /// `strerror(errno)`.
    static var lastError: String { String(cString: strerror(errno)) }

    /// Writes every byte, retrying short writes and `EINTR`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(BenchError) {
        var done = 0
        while done < bytes.count {
            let wrote = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if wrote < 0 {
                if errno == EINTR { continue }
                throw BenchError("cannot write \(path): \(lastError)")
            }
            done += wrote
        }
    }

    /// Reads until `buffer` is full or the file ends (retrying short reads and EINTR);
    /// returns the byte count.
    static func readFull(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(BenchError)
        -> Int
    {
        var filled = 0
        while filled < buffer.count {
            let got = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if got == 0 { break }
            if got < 0 {
                if errno == EINTR { continue }
                throw BenchError("cannot read \(path): \(lastError)")
            }
            filled += got
        }
        return filled
    }

    /// Opens `path` for reading.
    static func openForReading(_ path: String) throws(BenchError) -> Int32 {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchError("cannot open \(path): \(lastError)") }
        return fd
    }

    /// The size of the file at `path`, 0 when it does not exist.
    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// The first child of `pid` (`/proc/<pid>/task/<pid>/children`), nil when it has none.
    static func firstChild(of pid: pid_t) -> pid_t? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else {
            return nil
        }
        return text.split(separator: " ").first.flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// One field of `/proc/<pid>/status` in KiB (`VmHWM`, `VmRSS`), nil when unreadable.
    static func procStatusKiB(pid: pid_t, field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }
        }
        return nil
    }
}
