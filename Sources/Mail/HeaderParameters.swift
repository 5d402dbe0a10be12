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

    /// An RFC 8187 extended value, `UTF-8''na%C3%AFve.txt`.
    public static func decodeExtended(_ text: String) -> String? {
        let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].lowercased() == "utf-8" else { return nil }
        return String(pieces[2]).removingPercentEncoding
    }
}
