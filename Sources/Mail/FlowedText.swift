import Foundation

/// Text of a `text/plain; format=flowed` part (RFC 3676) as its writer meant it: the lines a
/// mail program wrapped at about 72 characters joined into their paragraphs again.
///
/// Why: Thunderbird and Apple Mail send plain text flowed, so read as fixed lines a paragraph
/// breaks in the middle of a sentence on a wide page, and with `delsp=yes` (Apple Mail's
/// Japanese and Chinese mail, which has no spaces to wrap at) every wrap would put a space
/// into the middle of a word. A line ending in a space is soft: it joins the next line of the
/// same quote depth (without that space when `delsp=yes`). Quote marks (`>`) are read off and
/// written again as `> `; the space a writer stuffed before a line that starts with a space,
/// `>` or `From ` goes; the signature separator `-- ` stays a line of its own.
public enum FlowedText {
    /// `text` (LF line endings) unflowed; `deleteSpace` for the `delsp=yes` parameter.
    public static func unflow(_ text: String, deleteSpace: Bool) -> String {
        var output: [String] = []
        var paragraph: String? = nil
        var paragraphDepth = 0

        func finish() {
            if let open = paragraph {
                output.append(quotePrefix(paragraphDepth) + open)
                paragraph = nil
            }
        }

        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            var depth = 0
            while line.first == ">" {
                depth += 1
                line = line.dropFirst()
            }
            if line.first == " " { line = line.dropFirst() }
            // A soft line of another depth is improperly flowed: it ends its paragraph.
            if paragraph != nil, depth != paragraphDepth { finish() }
            let isSignature = line == "-- "
            let isSoft = line.last == " " && !isSignature
            var content = String(line)
            if isSoft, deleteSpace { content.removeLast() }
            if paragraph == nil {
                paragraph = content
                paragraphDepth = depth
            } else {
                paragraph! += content
            }
            if !isSoft { finish() }
        }
        finish()
        return output.joined(separator: "\n")
    }

    /// True for a `Content-Type` whose `format` parameter is `flowed` (case-insensitive).
    public static func isFlowed(_ format: String?) -> Bool {
        format?.trimmingCharacters(in: .whitespaces).lowercased() == "flowed"
    }

    private static func quotePrefix(_ depth: Int) -> String {
        depth == 0 ? "" : String(repeating: ">", count: depth) + " "
    }
}
