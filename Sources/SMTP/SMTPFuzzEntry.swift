import NIOCore

/// The SMTP server's parsers as the fuzz targets (Fuzz/) and their corpus replay
/// (Tests/FuzzReplayTests) call them: bytes in, nothing out, never a trap.
///
/// `package` so that only RetractFuzzTargets, in this package, reaches the internal parsers;
/// nothing here is part of the SMTP module's API.
package enum SMTPFuzzEntry {
    /// One command line through `SMTPServerCommand.parse` (a throw is a fine answer).
    package static func serverCommand(_ bytes: [UInt8]) {
        _ = try? SMTPServerCommand.parse(bytes)
    }

    /// The bytes through `SMTPServerFrameDecoder` as a session would: the first byte picks
    /// the piece size the bytes arrive in (1…64) and the line limit; a line that parses as
    /// DATA switches the decoder to content mode, as the 354 answer does.
    package static func serverFrames(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let piece = Int(first & 0x3F) + 1
        let limit = first & 0x40 == 0 ? 1000 : 16
        var decoder = SMTPServerFrameDecoder(maximumLineLength: limit, maximumContentChunk: 64)
        var buffer = ByteBuffer()
        var offset = 1
        var frames = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while let frame = decoder.next(&buffer) {
                frames += 1
                precondition(frames <= bytes.count * 2 + 2, "the frame decoder made frames from no bytes")
                if case .line(let line) = frame, (try? SMTPServerCommand.parse(line)) == .data {
                    decoder.mode = .content
                }
            }
            buffer.discardReadBytes()
        }
    }
}
