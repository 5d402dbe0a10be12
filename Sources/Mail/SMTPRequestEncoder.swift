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
            case .preparedContent(let buffer): out.writeImmutableBuffer(buffer)
            case .streamedContent, .streamedContentBody:
                // The conversation reads a source and writes it as `preparedContent`.
                throw EncodingError(description: "refusing to send streamed content through the encoder")
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
    /// `terminated` is false (`SMTPDotStuffer` in one piece).
    static func writeContent(_ bytes: [UInt8], to out: inout ByteBuffer, terminated: Bool = true) {
        var stuffer = SMTPDotStuffer()
        stuffer.stuff(bytes, into: &out)
        stuffer.finish(into: &out, terminated: terminated)
    }
}
