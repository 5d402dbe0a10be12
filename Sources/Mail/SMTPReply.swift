/// One reply from an SMTP server: a three-digit code and one or more lines of text.
///
/// A multi-line reply (`250-first`, `250-second`, `250 last`) arrives as one value whose
/// `lines` hold the text after each code. The code alone decides what the reply means
/// (RFC 5321 §4.2.1): 2xx success, 3xx go on, 4xx temporary failure, 5xx permanent failure.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The reply code, 200–599.
    public let code: Int
    /// The text of each line, without the code, the separator and the line ending.
    public let lines: [String]

    /// Creates a reply; the decoder only makes replies with a code in 200–599 and at least one line.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// 2xx: the command succeeded.
    public var isSuccess: Bool { (200..<300).contains(self.code) }
    /// 3xx: the server waits for more (354 after DATA, 334 during AUTH).
    public var isIntermediate: Bool { (300..<400).contains(self.code) }
    /// 4xx: the command failed for now; the same command may succeed later.
    public var isTemporaryFailure: Bool { (400..<500).contains(self.code) }
    /// 5xx: the command failed and will fail again.
    public var isPermanentFailure: Bool { (500..<600).contains(self.code) }

    /// The RFC 3463 enhanced status code at the start of the first line (`5.1.1`), when the
    /// server sends one.
    public var enhancedStatusCode: String? {
        guard let first = self.lines.first?.split(separator: " ", maxSplits: 1).first else { return nil }
        let parts = first.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let classDigit = parts.first, ["2", "4", "5"].contains(classDigit),
            parts.dropFirst().allSatisfy({
                (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber)
            })
        else { return nil }
        return String(first)
    }

    /// The reply on one line for logs and error messages: the code, then the lines joined by
    /// spaces, control characters replaced, at most about 300 characters
    /// (`550 5.1.1 <bob@example.org>: no such user`).
    public var description: String {
        let text = self.lines.map { $0.trimmingSpaces }.filter { !$0.isEmpty }.joined(separator: " ")
        let clean = String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        let shortened = clean.count > 300 ? String(clean.prefix(300)) + "…" : clean
        return shortened.isEmpty ? String(self.code) : "\(self.code) \(shortened)"
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        let scalars = self.unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return String(scalars[start...end])
    }
}
