import NIOCore

/// One reply the SMTP server sends (RFC 5321 §4.2): a code, the enhanced status code of
/// RFC 3463 when the reply carries one, and its text lines.
///
/// RFC 2034 puts an enhanced code on every reply except the greeting and the EHLO/HELO
/// answer; `enhancedCode` is nil exactly for those.
struct SMTPServerReply: Hashable, Sendable, CustomStringConvertible {
    /// The three-digit reply code.
    var code: Int
    /// The enhanced status code (`2.0.0`), nil for the greeting and the EHLO/HELO reply.
    var enhancedCode: String?
    /// The text lines; a reply has at least one.
    var lines: [String]

    init(_ code: Int, _ enhancedCode: String?, _ lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines.isEmpty ? [""] : lines
    }

    init(_ code: Int, _ enhancedCode: String?, _ text: String) {
        self.init(code, enhancedCode, [text])
    }

    /// The reply as it goes on the wire: `250-…` lines, then `250 …`, each ending in CRLF.
    var wireText: String {
        var text = ""
        for (index, line) in self.lines.enumerated() {
            let separator = index == self.lines.count - 1 ? " " : "-"
            text += "\(self.code)\(separator)"
            if let enhancedCode { text += "\(enhancedCode) " }
            text += line + "\r\n"
        }
        return text
    }

    /// Writes `wireText` into `buffer`.
    func write(into buffer: inout ByteBuffer) {
        buffer.writeString(self.wireText)
    }

    var description: String { self.wireText.replacingOccurrences(of: "\r\n", with: " | ") }
}
