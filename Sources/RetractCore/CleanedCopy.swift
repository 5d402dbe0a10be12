import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A copy of a received message without what must not leave: its `Bcc:` fields (a client
/// that submits directly may keep them; every recipient would see the others) and the seal
/// tag in its Subject; everything else byte for byte.
///
/// Only the header block is rewritten (at most `IncomingMailHeaders.maximumHeaderBytes`);
/// the body is copied through a 1 MiB buffer, never whole in memory. A tag hidden in an
/// RFC 2047 encoded-word is not found and stays.
enum CleanedCopy {
    /// Writes the copy beside `file` and returns it, or nil when there is nothing to remove.
    static func make(of file: URL, removing tag: String?) throws(RetractError) -> URL? {
        let input = open(file.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw unreadable(file) }
        defer { close(input) }
        var head = [UInt8](repeating: 0, count: IncomingMailHeaders.maximumHeaderBytes)
        let got = head.withUnsafeMutableBytes { pread(input, $0.baseAddress!, $0.count, 0) }
        guard got >= 0 else { throw unreadable(file) }
        head.removeLast(head.count - got)
        guard let headerEnd = headerEnd(head) else { return nil }
        guard let rewritten = cleaned(Array(head[0..<headerEnd]), removingTag: tag) else { return nil }

        let copy = file.deletingLastPathComponent().appendingPathComponent(
            ".\(file.lastPathComponent).cleaned-\(UUID().uuidString)")
        let output = open(copy.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else {
            throw RetractError(
                .storage, "cannot write beside the received message \(file.path): \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer {
            close(output)
            if !ok { unlink(copy.path) }
        }
        try write(rewritten, to: output, path: copy.path)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = off_t(headerEnd)
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress!, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw unreadable(file) }
            if count == 0 { break }
            try write(Array(buffer[0..<count]), to: output, path: copy.path)
            offset += off_t(count)
        }
        ok = true
        return copy
    }

    /// The offset just past the header block's last field line (before the empty line), nil
    /// when the header block does not end within `head`.
    static func headerEnd(_ head: [UInt8]) -> Int? {
        var index = 0
        while index < head.count {
            if head[index] == 0x0A {
                let next = index + 1
                if next < head.count, head[next] == 0x0A { return next }
                if next + 1 < head.count, head[next] == 0x0D, head[next + 1] == 0x0A { return next }
            }
            index += 1
        }
        return nil
    }

    /// The header block without its Bcc fields (with their continuation lines) and with the
    /// tag removed from the Subject field, the blank it leaves taken with it; nil when there
    /// is neither.
    static func cleaned(_ header: [UInt8], removingTag tag: String?) -> [UInt8]? {
        // Lines with their own line ends, so every other byte stays as it came.
        var lines: [[UInt8]] = []
        var start = 0
        for (index, byte) in header.enumerated() where byte == 0x0A {
            lines.append(Array(header[start...index]))
            start = index + 1
        }
        if start < header.count { lines.append(Array(header[start...])) }
        var inSubject = false
        var inBcc = false
        var changed = false
        var kept: [[UInt8]] = []
        for line in lines {
            let continues = line.first == 0x20 || line.first == 0x09
            if !continues {
                let name = String(decoding: line.prefix(while: { $0 != 0x3A }), as: UTF8.self).lowercased()
                inSubject = name == "subject" && line.contains(0x3A)
                inBcc = name == "bcc" && line.contains(0x3A)
            }
            if inBcc {
                changed = true
                continue
            }
            guard inSubject, let tag, !tag.isEmpty else {
                kept.append(line)
                continue
            }
            var text = String(decoding: line, as: UTF8.self)
            guard text.range(of: tag, options: .caseInsensitive) != nil else {
                kept.append(line)
                continue
            }
            while let range = text.range(of: tag, options: .caseInsensitive) {
                // Take one blank after the tag with it, or one before it at the end.
                var removal = range
                if removal.upperBound < text.endIndex, text[removal.upperBound] == " " {
                    removal = removal.lowerBound..<text.index(after: removal.upperBound)
                } else if removal.lowerBound > text.startIndex, text[text.index(before: removal.lowerBound)] == " " {
                    removal = text.index(before: removal.lowerBound)..<removal.upperBound
                }
                text.removeSubrange(removal)
            }
            kept.append(Array(text.utf8))
            changed = true
        }
        return changed ? kept.flatMap { $0 } : nil
    }

    private static func write(_ bytes: [UInt8], to fd: Int32, path: String) throws(RetractError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw RetractError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += count
        }
    }

    private static func unreadable(_ file: URL) -> RetractError {
        RetractError(
            .attachmentUnreadable,
            "the received message \(file.path) cannot be read: \(String(cString: strerror(errno)))")
    }
}
