import Foundation
import Testing

@testable import Mail

@Suite("Quoted-printable encoding")
struct QuotedPrintableEncodingTests {
    /// The rules of RFC 2045 section 6.7 written the plain way, line by line over Strings:
    /// the byte-level encoder must produce exactly this.
    static func reference(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var out = ""
            var column = 0
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                func escape(atStart: Bool) -> Bool {
                    let whitespace = byte == 0x20 || byte == 0x09
                    let printable = (33...126).contains(byte) && byte != UInt8(ascii: "=")
                    let dot = byte == UInt8(ascii: ".") && atStart
                    return !((printable && !dot) || (whitespace && !isLast))
                }
                var escaped = escape(atStart: column == 0)
                if column + (escaped ? 3 : 1) > (isLast ? 76 : 75) {
                    out += "=\r\n"
                    column = 0
                    escaped = escape(atStart: true)
                }
                if escaped {
                    out += "=" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
                    column += 3
                } else {
                    out += String(UnicodeScalar(byte))
                    column += 1
                }
            }
            lines.append(out)
        }
        return lines.joined(separator: "\r\n")
    }

    static let samples = [
        "", "\n", "\r\n", "\r", "a", "a\n", "a\r\nb\rc\nd", "\n\n\r\n\r\r",
        ".starts with a dot\n.and another", "trailing space \ntrailing tab\t\n", "x = y",
        String(repeating: "a", count: 75), String(repeating: "a", count: 76), String(repeating: "a", count: 77),
        String(repeating: "a", count: 74) + "é", String(repeating: "b", count: 75) + " ",
        "https://retract.example/m/AAAAAAAAAAAAAAAAAAAAAA#" + String(repeating: "K", count: 43),
        "价格有误。消息已撤回，请忽略。\n" + String(repeating: "撤回", count: 40), "emoji 👩‍👩‍👧 and e\u{301}",
    ]

    @Test("every sample encodes exactly as the line-by-line rules say", arguments: samples)
    func matchesTheRules(_ text: String) {
        #expect(QuotedPrintable.encode(text) == Self.reference(text))
    }

    @Test("random text with mixed line endings encodes exactly as the line-by-line rules say")
    func randomText() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "Z", " ", "\t", "=", ".", "\n", "\r\n", "\r", "é", "撤", "😀", "~", "\u{7F}", "\u{0}"]
        var mismatches: [String] = []
        for _ in 0..<500 {
            let length = Int.random(in: 0...300, using: &generator)
            let text = (0..<length).map { _ in pieces.randomElement(using: &generator)! }.joined()
            if QuotedPrintable.encode(text) != Self.reference(text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "first mismatch: \(String(reflecting: mismatches.first ?? ""))")
    }

    @Test("decoding what was encoded gives back the text, with LF line breaks")
    func roundTrip() {
        let failures = Self.samples.filter { text in
            let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            let decoded = String(decoding: QuotedPrintable.decode(Substring(QuotedPrintable.encode(text))), as: UTF8.self)
            return decoded != normalized
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("no encoded line is longer than 76 characters")
    func lineLength() {
        let text = Self.samples.joined(separator: "\n") + String(repeating: "=", count: 500)
        let longest = QuotedPrintable.encode(text).components(separatedBy: "\r\n").map(\.utf8.count).max() ?? 0
        #expect(longest <= 76)
    }
}
