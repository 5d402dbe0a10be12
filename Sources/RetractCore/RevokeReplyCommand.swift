import Foundation

/// What a sender's reply to a gateway receipt asks for: revoke (from everyone or from the
/// addresses named), why, and optionally the corrected text.
///
/// The reply's own text is what the sender wrote, without the quoted receipt: top-posted (the
/// quote starts at a `>` line, an "On … wrote:" / "在 … 写道：" line, Outlook's
/// "-----Original Message-----" or underscore rule, or a `From:` / `发件人:` header block) or
/// bottom-posted (quoted lines first, the sender's text below). Its first non-empty line
/// decides: `REVOKE` or `撤回` (optionally followed by addresses), or a line starting
/// `Reason:` / `原因:` (revoke from everyone, the rest of the line starts the reason). The
/// lines after it, up to a line `---`, are the reason; the lines after `---` are the
/// corrected text. Anything else is no command.
public struct RevokeReplyCommand: Sendable, Equatable {
    /// The recipients to revoke; empty for all of them.
    public var recipients: [String]
    /// The sender's reason, nil when none was written.
    public var reason: String?
    /// The corrected text, nil when none was written.
    public var correction: String?

    /// A command (tests, and `parse`).
    public init(recipients: [String], reason: String?, correction: String?) {
        self.recipients = recipients
        self.reason = reason
        self.correction = correction
    }

    /// Longest reply text looked at.
    static let maximumText = 256 << 10

    /// The command a reply's text holds, or nil.
    public static func parse(_ text: String) -> RevokeReplyCommand? {
        let bounded = text.utf8.count > maximumText ? String(decoding: Array(text.utf8.prefix(maximumText)), as: UTF8.self) : text
        let lines = bounded.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let own = ownText(lines)
        guard let first = own.firstIndex(where: { !$0.isEmpty }) else { return nil }
        let head = own[first]
        var recipients: [String] = []
        var reasonStart: String?
        if let rest = commandRest(head, words: ["REVOKE", "撤回"]) {
            recipients = rest.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" || $0 == "，" }).map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
            }.filter { $0.contains("@") }
        } else if let rest = commandRest(head, words: ["Reason:", "原因:", "原因："]) {
            reasonStart = rest
        } else {
            return nil
        }
        var reasonLines: [String] = reasonStart.map { [$0] } ?? []
        var correctionLines: [String]?
        for line in own[(first + 1)...] {
            if correctionLines != nil {
                correctionLines!.append(line)
            } else if line == "---" {
                correctionLines = []
            } else {
                reasonLines.append(line)
            }
        }
        func joined(_ lines: [String]) -> String? {
            let text = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        return RevokeReplyCommand(
            recipients: recipients, reason: joined(reasonLines), correction: correctionLines.flatMap(joined))
    }

    /// The rest of `line` after one of `words` (compared without case; a word must end there
    /// or be followed by a blank or a colon), or nil.
    static func commandRest(_ line: String, words: [String]) -> String? {
        for word in words {
            guard line.count >= word.count,
                line.prefix(word.count).compare(word, options: .caseInsensitive) == .orderedSame
            else { continue }
            let rest = line.dropFirst(word.count)
            if word.hasSuffix(":") || word.hasSuffix("：") || rest.isEmpty || rest.first == " " || rest.first == ":" {
                return rest.trimmingCharacters(in: CharacterSet(charactersIn: " :："))
            }
        }
        return nil
    }

    /// The lines the sender wrote: after any leading quote (bottom-posting), up to the quote.
    static func ownText(_ lines: [String]) -> ArraySlice<String> {
        var start = 0
        // Bottom-posted: skip the quote and its attribution line first.
        while start < lines.count, lines[start].isEmpty || lines[start].hasPrefix(">") || isAttribution(lines[start]) {
            start += 1
        }
        var end = start
        while end < lines.count, !startsQuote(lines[end]) { end += 1 }
        return lines[start..<end]
    }

    /// Whether a line begins the quoted receipt of a top-posted reply.
    static func startsQuote(_ line: String) -> Bool {
        line.hasPrefix(">") || isAttribution(line) || line.hasPrefix("-----Original Message-----")
            || line.hasPrefix("________________________________") || line.hasPrefix("From: ")
            || line.hasPrefix("发件人:") || line.hasPrefix("发件人：") || line.hasPrefix("-----原始邮件-----")
    }

    /// "On … wrote:" (Thunderbird, Apple Mail, Gmail) or "在 … 写道：".
    static func isAttribution(_ line: String) -> Bool {
        (line.hasPrefix("On ") && line.hasSuffix("wrote:")) || (line.hasPrefix("在") && (line.hasSuffix("写道：") || line.hasSuffix("写道:")))
    }
}
