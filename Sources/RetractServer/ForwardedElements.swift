/// The grammar of one RFC 7239 `Forwarded` field line: comma-separated elements, each of
/// `;`-separated `name=value` pairs whose value is a token or a quoted string.
///
/// Whitespace around `,` and `;` is allowed (proxies write `for=a, for=b`); a parameter
/// name must be a token; a quoted string may hold escaped characters (`\"`). Anything
/// else makes the whole line unreadable (nil), never a guess.
enum ForwardedElements {
    /// One `name=value` pair, the value unquoted.
    struct Pair: Equatable {
        var name: String
        var value: String
    }

    /// The line's elements, each its pairs in order; nil when the line breaks the grammar.
    static func parse(_ bytes: [UInt8]) -> [[Pair]]? {
        var index = 0
        var elements: [[Pair]] = []
        var pairs: [Pair] = []
        func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        }
        while true {
            skipSpace()
            if index < bytes.count, bytes[index] != UInt8(ascii: ",") && bytes[index] != UInt8(ascii: ";") {
                guard let pair = parsePair(bytes, &index) else { return nil }
                pairs.append(pair)
                skipSpace()
            }
            guard index < bytes.count else {
                if !pairs.isEmpty { elements.append(pairs) }
                return elements
            }
            switch bytes[index] {
            case UInt8(ascii: ";"):
                index += 1
            case UInt8(ascii: ","):
                if !pairs.isEmpty { elements.append(pairs) }
                pairs = []
                index += 1
            default:
                return nil
            }
        }
    }

    /// `token "=" ( token / quoted-string )` at `index`, which it moves past the pair.
    private static func parsePair(_ bytes: [UInt8], _ index: inout Int) -> Pair? {
        let nameStart = index
        while index < bytes.count, isTokenCharacter(bytes[index]) { index += 1 }
        guard index > nameStart, index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return nil }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        index += 1
        guard index < bytes.count else { return nil }
        var value: [UInt8] = []
        if bytes[index] == UInt8(ascii: "\"") {
            index += 1
            while true {
                guard index < bytes.count else { return nil }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") {
                    guard index < bytes.count else { return nil }
                    value.append(bytes[index])
                    index += 1
                } else {
                    guard byte == 0x09 || byte >= 0x20, byte != 0x7F else { return nil }
                    value.append(byte)
                }
            }
        } else {
            let start = index
            // Tokens, plus the ':', '[' and ']' of a bare `for=[::1]:80` some proxies write unquoted.
            while index < bytes.count,
                isTokenCharacter(bytes[index]) || bytes[index] == UInt8(ascii: ":") || bytes[index] == UInt8(ascii: "[")
                    || bytes[index] == UInt8(ascii: "]")
            {
                index += 1
            }
            guard index > start else { return nil }
            value = Array(bytes[start..<index])
        }
        return Pair(name: name, value: String(decoding: value, as: UTF8.self))
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
