import Foundation

/// RFC 2045 quoted-printable, the transfer encoding of every body part Retract writes.
///
/// Why quoted-printable rather than base64: the mail stays readable in its raw form (the
/// `.eml` files of the file outbox, the dev mailbox, a log of an SMTP session), mostly-ASCII
/// English mail barely grows, and any decoder joins soft line breaks, so a personal link
/// longer than 76 characters is split on the wire yet arrives whole on its own line.
/// Base64 would be smaller for Chinese text, but notices are short and legibility wins.
enum QuotedPrintable {
    /// RFC 2045 section 6.7 (5): encoded lines are at most 76 characters.
    static let lineLimit = 76
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Encodes text as UTF-8; line breaks (CRLF, CR or LF) become CRLF hard breaks, long lines
    /// get `=` soft breaks. Spaces and tabs before a line break, `=`, anything that is not
    /// printable ASCII, and a `.` that would start a line (SMTP's end-of-data marker) are
    /// written as `=XX`.
    static func encode(_ text: String) -> String {
        var text = text
        return text.withUTF8 { String(decoding: Self.encode(bytes: $0), as: UTF8.self) }
    }

    /// Encodes UTF-8 bytes; the byte-level core of `encode(_:)`.
    ///
    /// One pass over the bytes into one reserved buffer, with no per-line or per-byte
    /// allocation: every notification and notice goes through here, ten thousand of them in
    /// one revocation.
    static func encode(bytes input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 4 + 16)
        let count = input.count
        var start = 0
        var isFirstLine = true
        while true {
            var end = start
            while end < count, input[end] != 10, input[end] != 13 { end += 1 }
            if !isFirstLine {
                output.append(13)
                output.append(10)
            }
            isFirstLine = false
            Self.encodeLine(input, from: start, to: end, into: &output)
            guard end < count else { break }
            // CRLF, CR and LF each end one line.
            start = input[end] == 13 && end + 1 < count && input[end + 1] == 10 ? end + 2 : end + 1
        }
        return output
    }

    /// Encodes the bytes `start..<end` of one line (no line break inside), adding `=` soft
    /// breaks so no encoded line is longer than `lineLimit`.
    private static func encodeLine(
        _ input: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, into output: inout [UInt8]
    ) {
        var column = 0
        var index = start
        while index < end {
            let byte = input[index]
            let isLast = index == end - 1
            var escaped = Self.needsEscape(byte, atLineEnd: isLast, atLineStart: column == 0)
            if column + (escaped ? 3 : 1) > (isLast ? Self.lineLimit : Self.lineLimit - 1) {
                output.append(UInt8(ascii: "="))
                output.append(13)
                output.append(10)
                column = 0
                escaped = Self.needsEscape(byte, atLineEnd: isLast, atLineStart: true)
            }
            if escaped {
                output.append(UInt8(ascii: "="))
                output.append(Self.hexDigits[Int(byte >> 4)])
                output.append(Self.hexDigits[Int(byte & 0x0F)])
                column += 3
            } else {
                output.append(byte)
                column += 1
            }
            index += 1
        }
    }

    /// Decodes quoted-printable text to bytes: soft breaks vanish, hard breaks become LF,
    /// whitespace a transport added at line ends is dropped, malformed `=` escapes are kept.
    static func decode(_ text: Substring) -> [UInt8] {
        decode(bytes: Array(text.utf8))
    }

    /// `decode(_:)` over raw bytes, so 8-bit bytes a mailer left unencoded stay as they came.
    static func decode(bytes text: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (lineIndex, rawLine) in lines.enumerated() {
            var line = Array(rawLine)
            while let last = line.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") || last == 13 {
                line.removeLast()
            }
            var softBreak = false
            var index = 0
            while index < line.count {
                let byte = line[index]
                if byte == UInt8(ascii: "=") {
                    if index == line.count - 1 {
                        softBreak = true
                        index += 1
                        continue
                    }
                    if index + 2 < line.count, let high = Self.hexValue(line[index + 1]),
                        let low = Self.hexValue(line[index + 2])
                    {
                        output.append(high << 4 | low)
                        index += 3
                        continue
                    }
                }
                output.append(byte)
                index += 1
            }
            if !softBreak, lineIndex < lines.count - 1 { output.append(UInt8(ascii: "\n")) }
        }
        return output
    }

    private static func needsEscape(_ byte: UInt8, atLineEnd: Bool, atLineStart: Bool) -> Bool {
        let isWhitespace = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
        let printable = (33...126).contains(byte) && byte != UInt8(ascii: "=")
        let dotAtStart = byte == UInt8(ascii: ".") && atLineStart
        return !((printable && !dotAtStart) || (isWhitespace && !atLineEnd))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
