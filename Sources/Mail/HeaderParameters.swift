import Foundation

/// A header value with parameters, `form-data; name="to"; filename="a b.pdf"`: quoted values
/// may hold `;` and backslash escapes. Used for MIME `Content-Type` in mail and for
/// `Content-Type` / `Content-Disposition` of HTTP multipart parts.
public struct HeaderParameters: Sendable {
    /// The part before the first `;`.
    public let value: String
    private var parameters: [String: String] = [:]

    /// Splits `header` at the `;` outside quotes; a parameter named twice keeps its first value.
    public init(_ header: String) {
        var items: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in header {
            if escaped {
                current.append(character)
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ";" && !quoted {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        value = items.first?.trimmingCharacters(in: .whitespaces) ?? ""
        for item in items.dropFirst() {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let raw = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if parameters[key] == nil { parameters[key] = raw }
        }
    }

    /// The parameter `key` (lowercase), unquoted and unescaped.
    public subscript(_ key: String) -> String? { parameters[key] }

    /// The RFC 2231 value of parameter `key` (lowercase, without `*`), decoded: one extended
    /// value `key*=charset'lang'text`, or continuations `key*0`, `key*1*`, … joined in order
    /// (Thunderbird splits a long file name so), each `*` segment percent-decoded, the bytes
    /// then decoded from the first segment's charset through `Charset` (any charset it knows,
    /// UTF-8 when none is named). Nil when the message has neither form or names a charset
    /// `Charset` does not know, so the caller falls back to the plain parameter.
    public func extendedValue(_ key: String) -> String? {
        if let single = parameters[key + "*"] {
            let (charset, text) = Self.splitCharset(single)
            guard charset.map({ Charset(label: $0) != nil }) ?? true else { return nil }
            return Charset.decode(Self.percentDecoded(text), label: charset).text
        }
        var bytes: [UInt8] = []
        var charset: String? = nil
        var index = 0
        // A message cannot hold more continuations than a header block has room for.
        while index < 1000 {
            if let encoded = parameters["\(key)*\(index)*"] {
                var text = encoded[...]
                if index == 0 { (charset, text) = Self.splitCharset(encoded) }
                bytes += Self.percentDecoded(text)
            } else if let plain = parameters["\(key)*\(index)"] {
                bytes += Array(plain.utf8)
            } else {
                break
            }
            index += 1
        }
        guard index > 0, charset.map({ Charset(label: $0) != nil }) ?? true else { return nil }
        return Charset.decode(bytes, label: charset).text
    }

    /// `charset'language'text` split into its charset (nil when empty or absent) and its text.
    private static func splitCharset(_ value: String) -> (String?, Substring) {
        let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return (nil, value[...]) }
        return (pieces[0].isEmpty ? nil : String(pieces[0]), pieces[2])
    }

    /// `%XX` escapes as bytes; anything else (a stray `%` too) as its UTF-8 bytes.
    private static func percentDecoded(_ text: Substring) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                out.append(value)
                index += 3
            } else {
                out.append(utf8[index])
                index += 1
            }
        }
        return out
    }

    /// An RFC 8187 extended value, `UTF-8''na%C3%AFve.txt`.
    public static func decodeExtended(_ text: String) -> String? {
        let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].lowercased() == "utf-8" else { return nil }
        return String(pieces[2]).removingPercentEncoding
    }
}
