import Foundation
import Mustache

/// One part (text or HTML) of a shipped recall-report template, split so that its
/// `{{#rows}}…{{/rows}}` section is rendered once per kind of row instead of once per recipient.
///
/// swift-mustache renders a row from a `[String: Any]` dictionary with a dynamic cast per
/// lookup, about 90 µs a row: most of a second for a report on ten thousand recipients.
/// With the shipped templates a row depends only on its outcome, its notice, whether it was
/// opened, the recipient and the opening time, and the last two appear only as plain
/// `{{recipient}}` / `{{openedAt}}` tags (never as sections, never with the list's index).
/// So each kind of row is rendered through Mustache once, with markers for those two
/// values, and every row of that kind is its rendering with the marked values put in,
/// escaped as swift-mustache escapes them. The rest of the template still renders through
/// Mustache. Only the bundled files are split: an operator's override renders row by row
/// as written, so it may use the section in any way Mustache allows.
/// `RecallReportRowsTests` proves the output identical to the plain rendering.
struct RecallReportRows: Sendable {
    /// The variable that takes the rendered rows' place in `outer`.
    static let renderedRowsName = "retractRenderedRecallReportRows"
    /// Marks the recipient in a row rendered once for its kind (a control character: its own
    /// grapheme, never escaped, never in a template).
    private static let recipientMarker: Unicode.Scalar = "\u{1}"
    /// Marks the opening time the same way.
    private static let openedAtMarker: Unicode.Scalar = "\u{2}"

    /// The template with its row section replaced by `{{{renderedRowsName}}}`.
    let outer: MustacheTemplate
    /// The row section's body, compiled on its own.
    private let row: MustacheTemplate
    /// Whether the part escapes HTML (`{{recipient}}` in an HTML template).
    private let escapesHTML: Bool

    /// What a row's rendering depends on apart from the recipient and the opening time.
    private struct Shape: Hashable {
        var outcome: String
        var notice: String
        var opened: Bool
    }

    /// A piece of a row rendered once for its kind.
    private enum Piece {
        case literal(String)
        case recipient
        case openedAt
    }

    /// Splits `source` (a template file's text) around its one `{{#rows}}` section; nil when
    /// it does not have exactly one, on lines of its own, with nothing else naming `rows`.
    init?(source: String, pragma: String, escapesHTML: Bool) {
        let open = "{{#rows}}\n"
        let close = "{{/rows}}\n"
        guard source.components(separatedBy: "rows").count == 3,
            let start = source.range(of: open),
            let end = source.range(of: close, range: start.upperBound..<source.endIndex),
            start.lowerBound == source.startIndex || source[source.index(before: start.lowerBound)] == "\n",
            end.lowerBound == start.upperBound || source[source.index(before: end.lowerBound)] == "\n"
        else { return nil }
        let body = String(source[start.upperBound..<end.lowerBound])
        let outerSource =
            String(source[..<start.lowerBound]) + "{{{\(Self.renderedRowsName)}}}" + String(source[end.upperBound...])
        guard let outer = try? MustacheTemplate(string: pragma + outerSource),
            let row = try? MustacheTemplate(string: pragma + body)
        else { return nil }
        self.outer = outer
        self.row = row
        self.escapesHTML = escapesHTML
    }

    /// The variables of one row, as both the per-row rendering and this one give them.
    static func rowData(_ row: RecallReportRow, openedAt: String?) -> [String: Any] {
        var item: [String: Any] = [
            "recipient": row.recipient,
            "outcome": row.outcome,
            "notice": row.notice,
            "cancelledBeforeDelivery": row.outcome == "cancelled_before_delivery",
            "revokedBeforeOpen": row.outcome == "revoked_before_open",
            "revokedAfterOpen": row.outcome == "revoked_after_open",
            "noticeWithdrawal": row.notice == "withdrawal",
            "noticeCorrection": row.notice == "correction",
            "noticeSkipped": row.notice == "none" && row.outcome != "cancelled_before_delivery",
        ]
        if let openedAt { item["openedAt"] = openedAt }
        return item
    }

    /// The rendered row section for `rows`; `data` is the report's other variables, which a
    /// row sees beneath its own as Mustache's context stack would show them.
    func render(
        _ rows: [RecallReportRow], openedAt: (Date) -> String, data: [String: Any], library: MustacheLibrary
    ) -> String {
        var kinds: [Shape: [Piece]] = [:]
        var openedTimes: [Date: String] = [:]
        var output = ""
        for row in rows {
            let shape = Shape(outcome: row.outcome, notice: row.notice, opened: row.openedAt != nil)
            let pieces: [Piece]
            if let known = kinds[shape] {
                pieces = known
            } else {
                pieces = self.pieces(for: row, data: data, library: library)
                kinds[shape] = pieces
            }
            for piece in pieces {
                switch piece {
                case .literal(let text): output += text
                case .recipient: output += self.escaped(row.recipient)
                case .openedAt:
                    guard let date = row.openedAt else { continue }
                    if let text = openedTimes[date] {
                        output += self.escaped(text)
                    } else {
                        let text = openedAt(date)
                        openedTimes[date] = text
                        output += self.escaped(text)
                    }
                }
            }
        }
        return output
    }

    /// Renders the row section once for `row`'s kind, with markers for its own values.
    private func pieces(for row: RecallReportRow, data: [String: Any], library: MustacheLibrary) -> [Piece] {
        var marked = row
        marked.recipient = String(Character(Self.recipientMarker))
        let item = Self.rowData(marked, openedAt: row.openedAt == nil ? nil : String(Character(Self.openedAtMarker)))
        let rendered = self.row.render(data.merging(item) { _, own in own }, library: library)
        var pieces: [Piece] = []
        var literal = String.UnicodeScalarView()
        for scalar in rendered.unicodeScalars {
            guard scalar == Self.recipientMarker || scalar == Self.openedAtMarker else {
                literal.append(scalar)
                continue
            }
            if !literal.isEmpty { pieces.append(.literal(String(literal))) }
            literal = String.UnicodeScalarView()
            pieces.append(scalar == Self.recipientMarker ? .recipient : .openedAt)
        }
        if !literal.isEmpty { pieces.append(.literal(String(literal))) }
        return pieces
    }

    /// `text` as swift-mustache puts it in the part: HTML-escaped character by character
    /// exactly as its `htmlEscape()` does in an HTML template, unchanged in a text one.
    private func escaped(_ text: String) -> String {
        guard self.escapesHTML,
            text.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 })
        else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "&": result += "&amp;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
