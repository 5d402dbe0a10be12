import NIOCore

/// Frames the bytes from an SMTP client: in command mode, lines of at most
/// `maximumLineLength` octets (CRLF included, RFC 5321 §4.5.3.1.4; a bare LF also ends a
/// line); in content mode, the message after DATA, line by line with dot-stuffing removed
/// (RFC 5321 §4.5.2) until the final `.` line (CRLF.CRLF, or LF.LF).
///
/// Nothing is unbounded: an over-long command line is discarded as it arrives and reported
/// once at its end, so the session recovers at the next line; a content line without a
/// line end is passed on in pieces of `maximumContentChunk` bytes. The decoder switches
/// back to command mode by itself after the final dot; the switch to content mode is the
/// caller's, when it answers DATA with 354.
struct SMTPServerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPServerInput

    /// What the bytes are.
    enum Mode: Hashable, Sendable {
        case command
        case content
    }

    /// The mode for the next bytes.
    var mode: Mode
    /// The longest command line, its line ending included.
    let maximumLineLength: Int
    /// The largest piece of a content line without a line end.
    let maximumContentChunk: Int

    private var discardingLongLine = false
    private var contentAtLineStart = true

    /// A decoder in `mode` with the given bounds (1,000 octets per command line by default).
    init(mode: Mode = .command, maximumLineLength: Int = 1000, maximumContentChunk: Int = 64 * 1024) {
        self.mode = mode
        self.maximumLineLength = maximumLineLength
        self.maximumContentChunk = maximumContentChunk
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = self.next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// At EOF whatever is left (a line without its end, content without its final dot) is
    /// dropped: a connection that ends in the middle of DATA delivers nothing.
    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }

    /// Takes the next frame off `buffer`, or nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) -> SMTPServerInput? {
        switch self.mode {
        case .command: self.nextLine(&buffer)
        case .content: self.nextContent(&buffer)
        }
    }

    private mutating func nextLine(_ buffer: inout ByteBuffer) -> SMTPServerInput? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if self.discardingLongLine || buffer.readableBytes >= self.maximumLineLength {
                // The line cannot fit any more: drop what came so far, report at its end.
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                self.discardingLongLine = true
            }
            return nil
        }
        let length = view.distance(from: view.startIndex, to: newline) + 1
        if self.discardingLongLine || length > self.maximumLineLength {
            buffer.moveReaderIndex(forwardBy: length)
            self.discardingLongLine = false
            return .lineTooLong
        }
        guard var line = buffer.readBytes(length: length) else { return nil }
        line.removeLast()
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return .line(line)
    }

    private mutating func nextContent(_ buffer: inout ByteBuffer) -> SMTPServerInput? {
        if self.contentAtLineStart {
            let view = buffer.readableBytesView
            guard let first = view.first else { return nil }
            if first == UInt8(ascii: ".") {
                guard view.count >= 2 else { return nil }
                let second = view[view.index(after: view.startIndex)]
                if second == UInt8(ascii: "\n") {
                    return self.endContent(&buffer, consuming: 2)
                }
                if second == UInt8(ascii: "\r") {
                    guard view.count >= 3 else { return nil }
                    if view[view.index(view.startIndex, offsetBy: 2)] == UInt8(ascii: "\n") {
                        return self.endContent(&buffer, consuming: 3)
                    }
                }
                // A dot at the start of a line is removed (transparency).
                buffer.moveReaderIndex(forwardBy: 1)
            }
            self.contentAtLineStart = false
        }
        let view = buffer.readableBytesView
        if let newline = view.firstIndex(of: UInt8(ascii: "\n")) {
            let length = view.distance(from: view.startIndex, to: newline) + 1
            guard length <= self.maximumContentChunk else { return self.contentPiece(&buffer) }
            guard let line = buffer.readSlice(length: length) else { return nil }
            self.contentAtLineStart = true
            return .content(line)
        }
        guard buffer.readableBytes >= self.maximumContentChunk else { return nil }
        return self.contentPiece(&buffer)
    }

    private mutating func contentPiece(_ buffer: inout ByteBuffer) -> SMTPServerInput? {
        guard let piece = buffer.readSlice(length: self.maximumContentChunk) else { return nil }
        return .content(piece)
    }

    private mutating func endContent(_ buffer: inout ByteBuffer, consuming count: Int) -> SMTPServerInput {
        buffer.moveReaderIndex(forwardBy: count)
        self.mode = .command
        self.contentAtLineStart = true
        return .contentEnd
    }
}
