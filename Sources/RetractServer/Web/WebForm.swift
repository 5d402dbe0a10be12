import Foundation

/// A submitted form of the web app: its text fields and, for multipart forms, the files
/// already written to disk.
struct WebForm: Sendable {
    /// One uploaded file.
    struct File: Sendable {
        /// The form field it came in.
        var field: String
        /// Its file name as the browser gave it (path removed).
        var name: String
        /// Where it was written.
        var url: URL
        /// Its size in bytes.
        var size: Int
    }

    private(set) var fields: [String: [String]] = [:]
    var files: [File] = []

    /// Adds one value of a field.
    mutating func add(_ name: String, _ value: String) {
        fields[name, default: []].append(value)
    }

    /// The first value of a field, or "".
    subscript(_ name: String) -> String {
        fields[name]?.first ?? ""
    }

    /// The first value with surrounding white space removed, or nil when that leaves nothing.
    func trimmed(_ name: String) -> String? {
        let value = self[name].trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    /// Every value of a field.
    func all(_ name: String) -> [String] {
        fields[name] ?? []
    }

    /// Parses an `application/x-www-form-urlencoded` body.
    init(urlEncoded text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (piece: Substring) in
                String(piece).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            add(decode(pieces[0]), pieces.count > 1 ? decode(pieces[1]) : "")
        }
    }

    /// An empty form.
    init() {}
}
