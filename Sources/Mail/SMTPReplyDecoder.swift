import NIOCore

/// Frames the bytes from an SMTP server into replies (RFC 5321 §4.2): reads lines ending in
/// CRLF (a bare LF is accepted too), checks each line's code and separator, and joins the
/// lines of a multi-line reply (`250-…` … `250 …`) into one `SMTPReply`.
///
/// Everything is bounded: a line longer than `maximumLineLength` bytes (the line ending
/// included) or a reply with more than `maximumLines` lines is an error, so a hostile or
/// broken server cannot make the client buffer without limit. RFC 5321 allows 512 bytes per
/// reply line; real servers sometimes send more, hence the larger default.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    /// A reply the decoder cannot accept. `description` is one line for error messages.
    struct DecodingError: Error, Hashable, CustomStringConvertible {
        enum Kind: Hashable {
            case lineTooLong
            case tooManyLines
            case malformedLine
            case codeChanged
            case truncatedReply
            case unconsumedBytes
        }

        let kind: Kind
        let detail: String

        var description: String { self.detail }
    }

    /// The longest line accepted, CRLF included.
    let maximumLineLength: Int
    /// The most lines one reply may have.
    let maximumLines: Int

    private var pendingCode: Int?
    private var pendingLines: [String] = []

    /// Creates a decoder with the given bounds (2,048 bytes per line, 128 lines per reply by default).
    init(maximumLineLength: Int = 2048, maximumLines: Int = 128) {
        self.maximumLineLength = maximumLineLength
        self.maximumLines = maximumLines
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let reply = try self.decodeReply(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    /// Called at EOF and when the decoder leaves the pipeline (the STARTTLS switch): any byte
    /// left over then is an error. At EOF it is a reply cut short; before TLS it is plaintext
    /// that someone slipped in after the server's 220 (the STARTTLS injection attack), which
    /// must never be read as if it had come through TLS.
    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        guard buffer.readableBytes == 0 && self.pendingCode == nil else {
            let leftover = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: leftover)
            self.pendingCode = nil
            self.pendingLines = []
            if seenEOF {
                throw DecodingError(
                    kind: .truncatedReply, detail: "the server closed the connection in the middle of a reply")
            }
            throw DecodingError(
                kind: .unconsumedBytes,
                detail: "the server sent unexpected data after its STARTTLS reply (possible command injection)")
        }
        return .needMoreData
    }

    /// Takes one complete reply off the buffer, or nil when more bytes are needed.
    mutating func decodeReply(_ buffer: inout ByteBuffer) throws(DecodingError) -> SMTPReply? {
        while true {
            let view = buffer.readableBytesView
            guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
                guard buffer.readableBytes < self.maximumLineLength else { throw self.lineTooLong() }
                return nil
            }
            let length = view.distance(from: view.startIndex, to: newline) + 1
            guard length <= self.maximumLineLength else { throw self.lineTooLong() }
            guard var line = buffer.readBytes(length: length) else { return nil }
            line.removeLast()
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if let reply = try self.take(line: line) { return reply }
        }
    }

    /// Adds one line to the reply being assembled; returns the reply when the line ends it.
    private mutating func take(line: [UInt8]) throws(DecodingError) -> SMTPReply? {
        guard line.count >= 3, line.prefix(3).allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0])
        else {
            throw DecodingError(
                kind: .malformedLine,
                detail: "a reply line does not start with a code 200–599: \(Self.quote(line))")
        }
        let code = line.prefix(3).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let isLast: Bool
        switch line.count > 3 ? line[3] : UInt8(ascii: " ") {
        case UInt8(ascii: " "): isLast = true
        case UInt8(ascii: "-"): isLast = false
        default:
            throw DecodingError(
                kind: .malformedLine,
                detail: "a reply line has neither ' ' nor '-' after its code: \(Self.quote(line))")
        }
        if let pendingCode, pendingCode != code {
            throw DecodingError(
                kind: .codeChanged,
                detail: "a multi-line reply changed its code from \(pendingCode) to \(code)")
        }
        guard self.pendingLines.count < self.maximumLines else {
            throw DecodingError(
                kind: .tooManyLines, detail: "a reply has more than \(self.maximumLines) lines")
        }
        self.pendingLines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        guard isLast else {
            self.pendingCode = code
            return nil
        }
        let reply = SMTPReply(code: code, lines: self.pendingLines)
        self.pendingCode = nil
        self.pendingLines = []
        return reply
    }

    private func lineTooLong() -> DecodingError {
        DecodingError(
            kind: .lineTooLong, detail: "a reply line is longer than \(self.maximumLineLength) bytes")
    }

    /// The start of a bad line, printable and short, for an error message.
    private static func quote(_ line: [UInt8]) -> String {
        MailError.quote(String(decoding: line.prefix(60), as: UTF8.self), limit: 60)
    }
}
