/// A small, tolerant HTML tokenizer for mail bodies: start and end tags with their
/// attributes, text, and nothing else (comments, doctypes and processing instructions are
/// skipped).
///
/// It follows the HTML standard's tokenizer where that decides what is a tag: `<` opens a
/// tag only before an ASCII letter (or `/` and a letter), attribute values are quoted or
/// end at a blank or `>`, the contents of script, style, xmp, iframe, noembed, noframes,
/// noscript, textarea and title run to their own end tag, and character references are
/// decoded in text and attribute values. It never fails and never builds a tree: callers
/// (`HTMLSanitizer`) keep whatever nesting they need, bounded. Works on UTF-8 bytes; every
/// character it looks for is ASCII.
public struct HTMLTokenizer: Sendable {
    /// One token.
    public enum Token: Sendable, Equatable {
        /// Text, character references decoded.
        case text([UInt8])
        /// `<name attr=value …>`; the name and attribute names in lower case.
        case startTag(name: String, attributes: [Attribute], selfClosing: Bool)
        /// `</name>`, the name in lower case.
        case endTag(name: String)
    }

    /// One attribute of a start tag.
    public struct Attribute: Sendable, Equatable {
        /// The name, in lower case.
        public var name: String
        /// The value, character references decoded (empty for a bare attribute).
        public var value: [UInt8]

        /// An attribute.
        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }

        /// The value as a string.
        public var text: String { String(decoding: value, as: UTF8.self) }
    }

    /// Elements whose content is text up to their own end tag.
    static let rawTextElements: Set<String> = [
        "script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "textarea", "title",
    ]
    /// Most attributes read from one tag; the rest are skipped.
    static let maximumAttributes = 64

    private let input: [UInt8]
    private var position = 0
    /// The end tag that ends raw text, when inside a raw-text element.
    private var rawTextEnd: String?
    /// After `<plaintext>`, everything is text.
    private var plaintext = false

    /// A tokenizer over the UTF-8 bytes of an HTML document or fragment.
    public init(_ input: [UInt8]) {
        self.input = input
    }

    /// Every token of the input, in order.
    public static func tokens(of input: [UInt8]) -> [Token] {
        var tokenizer = HTMLTokenizer(input)
        var all: [Token] = []
        while let token = tokenizer.next() { all.append(token) }
        return all
    }

    /// The next token, or nil at the end of the input.
    public mutating func next() -> Token? {
        while position < input.count {
            if plaintext {
                let text = Array(input[position...])
                position = input.count
                return .text(text)
            }
            if let end = rawTextEnd {
                return rawText(until: end)
            }
            if input[position] == UInt8(ascii: "<") {
                let start = position
                if let token = markup() { return token }
                // Markup was skipped up to the end of the input (a comment that never closes).
                if position != start { return nil }
            }
            if let text = self.text() { return text }
        }
        return nil
    }

    // MARK: Text

    /// Text up to the next `<` that may start markup (at least one byte).
    private mutating func text() -> Token? {
        let start = position
        position += 1
        while position < input.count, input[position] != UInt8(ascii: "<") { position += 1 }
        let decoded = Self.decodeReferences(input[start..<position], inAttribute: false)
        return decoded.isEmpty ? nil : .text(decoded)
    }

    /// The content of a raw-text element up to `</name` followed by a blank, `/` or `>`.
    private mutating func rawText(until name: String) -> Token? {
        let start = position
        let nameBytes = Array(name.utf8)
        var index = position
        while index < input.count {
            if input[index] == UInt8(ascii: "<"), index + 1 < input.count, input[index + 1] == UInt8(ascii: "/"),
                Self.matchesName(input, at: index + 2, nameBytes)
            {
                let after = index + 2 + nameBytes.count
                if after >= input.count || Self.isBlank(input[after]) || input[after] == UInt8(ascii: "/")
                    || input[after] == UInt8(ascii: ">")
                {
                    break
                }
            }
            index += 1
        }
        position = index
        rawTextEnd = nil
        var content = Array(input[start..<index])
        if name == "textarea" || name == "title" { content = Self.decodeReferences(content[...], inAttribute: false) }
        return content.isEmpty ? next() : .text(content)
    }

    // MARK: Markup

    /// A tag at `<`, or nil (and `position` unchanged) when the `<` is text. Comments,
    /// doctypes and bogus comments are consumed and the next token is returned.
    private mutating func markup() -> Token? {
        let next = position + 1
        guard next < input.count else { return nil }
        let byte = input[next]
        if Self.isLetter(byte) {
            return startTag()
        }
        if byte == UInt8(ascii: "/") {
            guard next + 1 < input.count else { return nil }
            if Self.isLetter(input[next + 1]) { return endTag() }
            if input[next + 1] == UInt8(ascii: ">") {
                position = next + 2
                return self.next()
            }
            skipBogusComment(from: next + 1)
            return self.next()
        }
        if byte == UInt8(ascii: "!") {
            if next + 2 < input.count, input[next + 1] == UInt8(ascii: "-"), input[next + 2] == UInt8(ascii: "-") {
                skipComment(from: next + 3)
            } else {
                skipBogusComment(from: next + 1)
            }
            return self.next()
        }
        if byte == UInt8(ascii: "?") {
            skipBogusComment(from: next)
            return self.next()
        }
        return nil
    }

    /// `<!-- … -->` (also `<!-->`, `<!--->`, and `--!>`), or to the end of the input.
    private mutating func skipComment(from start: Int) {
        var index = start
        if index < input.count, input[index] == UInt8(ascii: ">") {
            position = index + 1
            return
        }
        if index + 1 < input.count, input[index] == UInt8(ascii: "-"), input[index + 1] == UInt8(ascii: ">") {
            position = index + 2
            return
        }
        while index < input.count {
            if input[index] == UInt8(ascii: "-"), index + 2 < input.count, input[index + 1] == UInt8(ascii: "-") {
                if input[index + 2] == UInt8(ascii: ">") {
                    position = index + 3
                    return
                }
                if input[index + 2] == UInt8(ascii: "!"), index + 3 < input.count, input[index + 3] == UInt8(ascii: ">")
                {
                    position = index + 4
                    return
                }
            }
            index += 1
        }
        position = input.count
    }

    /// Up to and including the next `>`.
    private mutating func skipBogusComment(from start: Int) {
        var index = start
        while index < input.count, input[index] != UInt8(ascii: ">") { index += 1 }
        position = min(input.count, index + 1)
    }

    private mutating func endTag() -> Token {
        position += 2
        let name = tagName()
        // Attributes on an end tag are read and thrown away.
        _ = attributes()
        return .endTag(name: name)
    }

    private mutating func startTag() -> Token {
        position += 1
        let name = tagName()
        let (attributes, selfClosing) = self.attributes()
        if Self.rawTextElements.contains(name) {
            rawTextEnd = name
        } else if name == "plaintext" {
            plaintext = true
        }
        return .startTag(name: name, attributes: attributes, selfClosing: selfClosing)
    }

    /// The tag name at `position`, lower case, up to a blank, `/` or `>`.
    private mutating func tagName() -> String {
        let start = position
        while position < input.count, !Self.isBlank(input[position]), input[position] != UInt8(ascii: "/"),
            input[position] != UInt8(ascii: ">")
        {
            position += 1
        }
        return Self.lowercased(input[start..<position])
    }

    /// The attributes up to and including `>` (or the end of the input), and whether the tag ended in `/>`.
    private mutating func attributes() -> ([Attribute], Bool) {
        var attributes: [Attribute] = []
        var names: Set<String> = []
        var selfClosing = false
        while position < input.count {
            let byte = input[position]
            if Self.isBlank(byte) {
                position += 1
                continue
            }
            if byte == UInt8(ascii: ">") {
                position += 1
                return (attributes, selfClosing)
            }
            if byte == UInt8(ascii: "/") {
                position += 1
                selfClosing = position < input.count && input[position] == UInt8(ascii: ">")
                continue
            }
            selfClosing = false
            // The name: a leading `=` belongs to it, as in the standard.
            let nameStart = position
            position += 1
            while position < input.count {
                let b = input[position]
                if Self.isBlank(b) || b == UInt8(ascii: "/") || b == UInt8(ascii: ">") || b == UInt8(ascii: "=") {
                    break
                }
                position += 1
            }
            let name = Self.lowercased(input[nameStart..<position])
            while position < input.count, Self.isBlank(input[position]) { position += 1 }
            var value: [UInt8] = []
            if position < input.count, input[position] == UInt8(ascii: "=") {
                position += 1
                while position < input.count, Self.isBlank(input[position]) { position += 1 }
                if position < input.count, input[position] == UInt8(ascii: "\"") || input[position] == UInt8(ascii: "'")
                {
                    let quote = input[position]
                    position += 1
                    let start = position
                    while position < input.count, input[position] != quote { position += 1 }
                    value = Self.decodeReferences(input[start..<position], inAttribute: true)
                    position = min(input.count, position + 1)
                } else {
                    let start = position
                    while position < input.count, !Self.isBlank(input[position]), input[position] != UInt8(ascii: ">") {
                        position += 1
                    }
                    value = Self.decodeReferences(input[start..<position], inAttribute: true)
                }
            }
            // The first of repeated attributes wins, as in the standard.
            if attributes.count < Self.maximumAttributes, names.insert(name).inserted {
                attributes.append(Attribute(name: name, value: value))
            }
        }
        return (attributes, selfClosing)
    }

    // MARK: Character references

    /// `&name;`, `&#n;` and `&#xh;` decoded; anything else kept as it is.
    static func decodeReferences(_ bytes: ArraySlice<UInt8>, inAttribute: Bool) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "&")) else { return Array(bytes) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&"), index + 1 < bytes.endIndex else {
                output.append(byte)
                index += 1
                continue
            }
            if bytes[index + 1] == UInt8(ascii: "#") {
                var cursor = index + 2
                var hex = false
                if cursor < bytes.endIndex, bytes[cursor] | 0x20 == UInt8(ascii: "x") {
                    hex = true
                    cursor += 1
                }
                let digitsStart = cursor
                var value: UInt32 = 0
                while cursor < bytes.endIndex, cursor - digitsStart < 12,
                    let digit = Self.digit(bytes[cursor], hex: hex)
                {
                    value = min(value &* (hex ? 16 : 10) &+ digit, 0x11_0000)
                    cursor += 1
                }
                guard cursor > digitsStart else {
                    output.append(byte)
                    index += 1
                    continue
                }
                if cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: ";") { cursor += 1 }
                let scalar = Self.referenceScalar(value)
                output += Array(String(Character(scalar)).utf8)
                index = cursor
                continue
            }
            var cursor = index + 1
            while cursor < bytes.endIndex, cursor - index <= 32,
                Self.isLetter(bytes[cursor]) || Self.isDigit(bytes[cursor])
            {
                cursor += 1
            }
            let name = String(decoding: bytes[(index + 1)..<cursor], as: UTF8.self)
            let terminated = cursor < bytes.endIndex && bytes[cursor] == UInt8(ascii: ";")
            if let replacement = HTMLEntities.named[name],
                terminated || (!inAttribute && HTMLEntities.legacy.contains(name))
            {
                output += Array(replacement.utf8)
                index = terminated ? cursor + 1 : cursor
                continue
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// The scalar a numeric reference stands for; U+FFFD for NUL, surrogates and beyond
    /// U+10FFFF, and the Windows-1252 characters for 0x80–0x9F, as the standard says.
    private static func referenceScalar(_ value: UInt32) -> Unicode.Scalar {
        if (0x80...0x9F).contains(value), let mapped = windows1252C1[Int(value - 0x80)] {
            return Unicode.Scalar(mapped)!
        }
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }

    private static let windows1252C1: [UInt32?] = [
        0x20AC, nil, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, nil,
        0x017D, nil, nil, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, nil, 0x017E, 0x0178,
    ]

    // MARK: Bytes

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte)
    }

    private static func digit(_ byte: UInt8, hex: Bool) -> UInt32? {
        if isDigit(byte) { return UInt32(byte - 0x30) }
        guard hex else { return nil }
        let lower = byte | 0x20
        if (0x61...0x66).contains(lower) { return UInt32(lower - 0x61 + 10) }
        return nil
    }

    /// ASCII lower case; other bytes kept.
    static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    private static func matchesName(_ input: [UInt8], at start: Int, _ name: [UInt8]) -> Bool {
        guard start + name.count <= input.count else { return false }
        for offset in 0..<name.count where input[start + offset] | 0x20 != name[offset] { return false }
        return true
    }
}
