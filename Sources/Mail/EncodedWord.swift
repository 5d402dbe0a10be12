import Foundation

/// Decoding of RFC 2047 encoded-words in header values (encoding lives in `HeaderFolder`).
enum EncodedWord {
    /// Replaces every well-formed `=?charset?B|Q?text?=` in a header value by its text.
    /// Whitespace between two adjacent encoded-words is dropped (RFC 2047 section 6.2) and
    /// their bytes are joined before decoding, so a character split across words by another
    /// mailer still comes out whole. Any charset `Charset` knows is decoded (ISO-8859-*,
    /// Windows-125x, GB18030, Big5, ISO-2022-JP, Shift_JIS, EUC-KR, KOI8-R, UTF-7, …);
    /// words in unknown charsets are left as they are.
    static func decode(_ value: String) -> String {
        let bytes = Array(value.utf8)
        var output: [UInt8] = []
        var pending: (charset: String, bytes: [UInt8])? = nil
        var gap: [UInt8] = []
        var index = 0

        func flush() {
            if let current = pending {
                output += Self.utf8(current.bytes, charset: current.charset)
                pending = nil
            }
        }

        while index < bytes.count {
            if let word = Self.word(in: bytes, at: index) {
                // Only whitespace can separate a pending word from this one: drop it.
                if let current = pending, current.charset == word.charset {
                    pending = (current.charset, current.bytes + word.bytes)
                } else {
                    flush()
                    pending = (word.charset, word.bytes)
                }
                gap = []
                index = word.end
                continue
            }
            let byte = bytes[index]
            if pending == nil {
                output.append(byte)
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                gap.append(byte)
            } else {
                flush()
                output += gap + [byte]
                gap = []
            }
            index += 1
        }
        flush()
        output += gap
        return String(decoding: output, as: UTF8.self)
    }

    private struct Word {
        var charset: String
        var bytes: [UInt8]
        var end: Int
    }

    /// Parses one encoded-word starting at `start`, or nil if there is none there.
    private static func word(in bytes: [UInt8], at start: Int) -> Word? {
        let question = UInt8(ascii: "?")
        guard start + 1 < bytes.count, bytes[start] == UInt8(ascii: "="), bytes[start + 1] == question else {
            return nil
        }
        guard let charsetEnd = bytes[(start + 2)...].firstIndex(of: question), charsetEnd > start + 2,
            charsetEnd + 2 < bytes.count, bytes[charsetEnd + 2] == question
        else { return nil }
        let encoding = bytes[charsetEnd + 1] | 0x20
        let textStart = charsetEnd + 3
        guard let textEnd = bytes[textStart...].firstIndex(of: question), textEnd + 1 < bytes.count,
            bytes[textEnd + 1] == UInt8(ascii: "=")
        else { return nil }
        let text = Array(bytes[textStart..<textEnd])
        guard !text.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return nil }
        var charset = String(decoding: bytes[(start + 2)..<charsetEnd], as: UTF8.self).lowercased()
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
        guard Charset(label: charset) != nil else { return nil }

        let decoded: [UInt8]
        switch encoding {
        case UInt8(ascii: "b"):
            var base64 = String(decoding: text, as: UTF8.self)
            while base64.utf8.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64) else { return nil }
            decoded = Array(data)
        case UInt8(ascii: "q"):
            var result: [UInt8] = []
            var index = 0
            while index < text.count {
                if text[index] == UInt8(ascii: "_") {
                    result.append(UInt8(ascii: " "))
                } else if text[index] == UInt8(ascii: "="), index + 2 < text.count,
                    let value = UInt8(String(decoding: text[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
                {
                    result.append(value)
                    index += 2
                } else {
                    result.append(text[index])
                }
                index += 1
            }
            decoded = result
        default:
            return nil
        }
        return Word(charset: charset, bytes: decoded, end: textEnd + 2)
    }

    /// The word's bytes as UTF-8, decoded from its charset by `Charset` (glibc's iconv).
    private static func utf8(_ bytes: [UInt8], charset: String) -> [UInt8] {
        Array(Charset.decode(bytes, label: charset).text.utf8)
    }
}
