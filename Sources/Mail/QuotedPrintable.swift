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
        // One output buffer and no per-byte allocation: every notification and notice goes
        // through here, ten thousand of them in one revocation.
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + text.utf8.count / 4 + 16)
        var isFirstLine = true
        for line in Self.lines(of: text) {
            if !isFirstLine { output.append(contentsOf: [13, 10]) }
            isFirstLine = false
            let count = line.utf8.count
            var column = 0
            for (index, byte) in line.utf8.enumerated() {
                let isLast = index == count - 1
                var escaped = Self.needsEscape(byte, atLineEnd: isLast, atLineStart: column == 0)
                if column + (escaped ? 3 : 1) > (isLast ? Self.lineLimit : Self.lineLimit - 1) {
                    output.append(contentsOf: [UInt8(ascii: "="), 13, 10])
                    column = 0
                    escaped = Self.needsEscape(byte, atLineEnd: isLast, atLineStart: true)
                }
                if escaped {
                    output.append(contentsOf: [
                        UInt8(ascii: "="), Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)],
                    ])
                    column += 3
                } else {
                    output.append(byte)
                    column += 1
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes quoted-printable text to bytes: soft breaks vanish, hard breaks become LF,
    /// whitespace a transport added at line ends is dropped, malformed `=` escapes are kept.
    static func decode(_ text: Substring) -> [UInt8] {
        var output: [UInt8] = []
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
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

    /// Splits text on CRLF, CR or LF.
    static func lines(of text: String) -> [Substring] {
        guard text.utf8.contains(13) else { return text.split(separator: "\n", omittingEmptySubsequences: false) }
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return normalized.split(separator: "\n", omittingEmptySubsequences: false)
    }
}
