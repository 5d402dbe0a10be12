import Foundation

/// Builds one header field, folded so no line exceeds 78 characters.
///
/// Values are laid out as whitespace-separated tokens; a token that does not fit on the
/// current line starts a continuation line (`CRLF SP token`), so unfolding (deleting the
/// CRLFs) gives back exactly the value with single spaces. Text that cannot be laid out that
/// way (non-ASCII, runs of whitespace, over-long words, something that looks like an
/// encoded-word) becomes RFC 2047 `=?UTF-8?B?…?=` words of at most 75 characters, one per
/// line, each holding whole code points. A single token longer than a line (a very long
/// Message-ID) is the only thing that may exceed 78; RFC 5322 still allows it up to 998.
struct HeaderFolder {
    static let lineLimit = 78
    /// RFC 2047 section 2: an encoded-word is at most 75 characters.
    static let encodedWordLimit = 75
    private static let encodedWordPrefix = "=?UTF-8?B?"
    private static let encodedWordOverhead = 12  // "=?UTF-8?B?" + "?="

    private var lines: [String]
    private var lineHasToken = false

    init(name: String) {
        self.lines = [name + ":"]
    }

    /// The folded field without its final CRLF.
    var rendered: String {
        self.lines.joined(separator: "\r\n")
    }

    private var currentLength: Int {
        self.lines[self.lines.count - 1].utf8.count
    }

    /// Appends one token that must not be split (an address, a Message-ID, a word).
    mutating func append(token: String) {
        if !self.lineHasToken || self.currentLength + 1 + token.utf8.count <= Self.lineLimit {
            self.lines[self.lines.count - 1] += " " + token
        } else {
            self.lines.append(" " + token)
        }
        self.lineHasToken = true
    }

    /// Appends unstructured text (a subject, an extra header's value).
    mutating func append(text: String) {
        if self.isFoldablePlainText(text) {
            for word in text.split(separator: " ") { self.append(token: String(word)) }
        } else if !text.isEmpty {
            self.append(encoded: text)
        }
    }

    /// Appends a display name as a phrase: bare words, a quoted string, or encoded-words.
    mutating func append(phrase: String) {
        if self.isFoldablePlainText(phrase),
            !phrase.unicodeScalars.contains(where: { MailAddress.specials.contains($0) })
        {
            for word in phrase.split(separator: " ") { self.append(token: String(word)) }
            return
        }
        let quoted = MailAddress.quoted(phrase)
        let printableASCII = phrase.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        if printableASCII, !Self.containsEncodedWordStart(phrase), quoted.utf8.count <= self.firstRoom {
            self.append(token: quoted)
        } else {
            self.append(encoded: phrase)
        }
    }

    /// Appends text as RFC 2047 B-encoded words, each on its own line; the first one is sized
    /// to fit the current line when there is room for it.
    mutating func append(encoded text: String) {
        let room = min(self.firstRoom, Self.encodedWordLimit)
        let firstLimit = room >= Self.encodedWordOverhead + 8 ? room : Self.encodedWordLimit
        let chunks = Self.chunk(
            text, firstBytes: Self.payloadBytes(wordLength: firstLimit),
            bytes: Self.payloadBytes(wordLength: Self.encodedWordLimit))
        for (index, chunk) in chunks.enumerated() {
            let word = Self.encodedWordPrefix + Data(chunk).base64EncodedString() + "?="
            if index == 0 {
                self.append(token: word)
            } else {
                self.lines.append(" " + word)
            }
        }
    }

    /// Room for the next token: the rest of the first line, or a whole continuation line.
    private var firstRoom: Int {
        self.lineHasToken ? Self.lineLimit - 1 : Self.lineLimit - self.currentLength - 1
    }

    /// Plain text folds losslessly when it is printable ASCII words separated by single spaces,
    /// each short enough for its line, and nothing in it looks like an encoded-word.
    ///
    /// One pass over the UTF-8 bytes: Foundation's `String.contains` for the two pairs cost
    /// more than the rest of a header, and for printable ASCII bytes and characters agree.
    private func isFoldablePlainText(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != 0x20, text.utf8.last != 0x20 else { return false }
        var previous: UInt8 = 0
        for byte in text.utf8 {
            guard byte >= 0x20, byte < 0x7F else { return false }
            if byte == 0x20 && previous == 0x20 { return false }  // "  "
            if byte == 0x3F && previous == 0x3D { return false }  // "=?"
            previous = byte
        }
        let words = text.split(separator: " ")
        return words.enumerated().allSatisfy { index, word in
            word.utf8.count <= (index == 0 ? self.firstRoom : Self.lineLimit - 1)
        }
    }

    /// Whether `text` holds "=?", byte by byte (the check is only made on printable ASCII).
    private static func containsEncodedWordStart(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == 0x3F && previous == 0x3D { return true }
            previous = byte
        }
        return false
    }

    /// How many UTF-8 bytes fit in an encoded-word of the given length (base64 in groups of 4).
    private static func payloadBytes(wordLength: Int) -> Int {
        (wordLength - Self.encodedWordOverhead) / 4 * 3
    }

    /// Splits text into UTF-8 chunks of at most the given sizes, on character boundaries
    /// (on scalar boundaries only for a character too big for its word, such as a long emoji
    /// sequence), so no encoded-word holds part of a UTF-8 sequence.
    static func chunk(_ text: String, firstBytes: Int, bytes: Int) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var current: [UInt8] = []
        var limit = firstBytes
        func flush() {
            if !current.isEmpty {
                chunks.append(current)
                current = []
                limit = bytes
            }
        }
        func add(_ piece: [UInt8]) {
            if current.count + piece.count > limit { flush() }
            current += piece
        }
        for character in text {
            let piece = Array(String(character).utf8)
            if piece.count <= (current.isEmpty ? limit : bytes) {
                add(piece)
            } else {
                for scalar in character.unicodeScalars { add(Array(String(scalar).utf8)) }
            }
        }
        flush()
        return chunks
    }
}
