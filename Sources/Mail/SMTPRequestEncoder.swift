import NIOCore

/// Writes SMTP requests as bytes: a command line plus CRLF, or the message content prepared
/// for DATA (RFC 5321 §4.5.2).
///
/// For the content every line ending (CRLF, a bare LF, a bare CR) becomes CRLF, a line that
/// starts with `.` gets a second `.` (dot-stuffing, so no line of the message can end the
/// DATA phase early), a missing final line ending is added, and the `.` line ends it.
struct SMTPRequestEncoder: MessageToByteEncoder {
    typealias OutboundIn = SMTPRequest

    /// A request that cannot be written safely.
    struct EncodingError: Error, Hashable, CustomStringConvertible {
        let description: String
    }

    func encode(data request: SMTPRequest, out: inout ByteBuffer) throws {
        guard let line = request.commandLine else {
            switch request {
            case .content(let bytes): Self.writeContent(bytes, to: &out)
            case .contentBody(let bytes): Self.writeContent(bytes, to: &out, terminated: false)
            case .endOfContent: out.writeStaticString(".\r\n")
            default: break
            }
            return
        }
        guard !line.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }) else {
            throw EncodingError(description: "refusing to send \(request.summary): it contains CR, LF or NUL")
        }
        out.reserveCapacity(minimumWritableBytes: line.utf8.count + 2)
        out.writeString(line)
        out.writeStaticString("\r\n")
    }

    /// Writes `bytes` with CRLF line endings, dot-stuffed, followed by `.` CRLF unless
    /// `terminated` is false.
    static func writeContent(_ bytes: [UInt8], to out: inout ByteBuffer, terminated: Bool = true) {
        out.reserveCapacity(minimumWritableBytes: bytes.count + bytes.count / 32 + 8)
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        bytes.withUnsafeBufferPointer { input in
            var atLineStart = true
            var runStart = 0
            var index = 0
            while index < input.count {
                let byte = input[index]
                if byte == cr || byte == lf {
                    out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[runStart..<index])))
                    out.writeStaticString("\r\n")
                    if byte == cr && index + 1 < input.count && input[index + 1] == lf { index += 1 }
                    index += 1
                    runStart = index
                    atLineStart = true
                    continue
                }
                if atLineStart && byte == dot {
                    out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[runStart..<index])))
                    out.writeInteger(dot)
                    runStart = index
                }
                atLineStart = false
                index += 1
            }
            out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[runStart..<input.count])))
            if !atLineStart { out.writeStaticString("\r\n") }
        }
        if terminated { out.writeStaticString(".\r\n") }
    }
}
