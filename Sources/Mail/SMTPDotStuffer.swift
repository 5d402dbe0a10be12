import NIOCore

/// Prepares message content for DATA piece by piece (RFC 5321 §4.5.2): every line ending
/// (CRLF, a bare LF, a bare CR) becomes CRLF, a line that starts with `.` gets a second
/// `.`, and `finish` adds a missing final line ending.
///
/// It keeps what it needs across pieces (whether the next byte starts a line, whether the
/// last piece ended in a CR), so a message cut anywhere — between CR and LF, right before a
/// line's leading `.` — comes out byte for byte as if it had been prepared whole. The
/// encoder prepares in-memory content with it in one piece; the conversation streams a
/// `MailContentSource` through it.
struct SMTPDotStuffer {
    /// Whether the next byte starts a line.
    private var atLineStart = true
    /// Whether the last byte was a CR (already written as CRLF), so an LF right after it is
    /// the same line ending.
    private var afterCR = false

    init() {}

    /// Appends `bytes`, prepared, to `out`.
    mutating func stuff(_ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        out.reserveCapacity(minimumWritableBytes: bytes.count + bytes.count / 32 + 8)
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        let input = bytes.bindMemory(to: UInt8.self)
        var runStart = 0
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == lf && self.afterCR {
                // The LF of a CRLF whose CR ended the previous piece (or the previous byte).
                out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[runStart..<index])))
                self.afterCR = false
                index += 1
                runStart = index
                continue
            }
            self.afterCR = false
            if byte == cr || byte == lf {
                out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[runStart..<index])))
                out.writeStaticString("\r\n")
                self.afterCR = byte == cr
                self.atLineStart = true
                index += 1
                runStart = index
                continue
            }
            if self.atLineStart && byte == dot {
                out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[runStart..<index])))
                out.writeInteger(dot)
                runStart = index
            }
            self.atLineStart = false
            index += 1
        }
        out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[runStart..<input.count])))
    }

    /// Appends `bytes`, prepared, to `out`.
    mutating func stuff(_ bytes: [UInt8], into out: inout ByteBuffer) {
        bytes.withUnsafeBytes { self.stuff($0, into: &out) }
    }

    /// Ends the content: CRLF when the last line had none, then `.` CRLF when `terminated`.
    mutating func finish(into out: inout ByteBuffer, terminated: Bool) {
        if !self.atLineStart { out.writeStaticString("\r\n") }
        self.atLineStart = true
        self.afterCR = false
        if terminated { out.writeStaticString(".\r\n") }
    }
}
