/// Makes the CSS of a mail (a `<style>` element's content or a `style` attribute) load
/// nothing and run nothing, keeping everything else the sender wrote.
///
/// Comments go; escapes are decoded first (so `\75 rl(` is seen as `url(`), except escaped
/// quotes and backslashes; then every `url(…)` is rewritten: `cid:` to the `data:` URI the
/// caller gives (or `none`), `data:image/png|gif|jpeg|webp` kept, anything else `none`, and
/// remote ones (http:, https:, `//`) counted. `@import`, `@namespace`, `image-set()`, `image()`,
/// `cross-fade()`, `element()`, `src()`, `expression()`, `behavior`, `-moz-binding` and
/// `javascript:` / `vbscript:` are renamed to names no browser knows, so the declaration
/// is dropped by the browser. `<` and `>` are written as CSS escapes, so the result cannot
/// end a `<style>` element. A second layer: the frame's CSP loads nothing remote anyway.
public enum CSSSanitizer {
    /// The sanitised CSS, and how many remote references it held.
    public static func sanitize(_ css: String, inlineImage: (String) -> String?) -> (css: String, remote: Int) {
        let scalars = decodeEscapes(removeComments(Array(css.unicodeScalars)))
        var output = String.UnicodeScalarView()
        var remote = 0
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<" || scalar == ">" {
                output.append(contentsOf: (scalar == "<" ? "\\3c " : "\\3e ").unicodeScalars)
                index += 1
                continue
            }
            if let end = match(scalars, at: index, "url(") {
                let (url, after) = urlArgument(scalars, from: end)
                let rewritten = rewrite(url: url, inlineImage: inlineImage, remote: &remote)
                output.append(contentsOf: rewritten.unicodeScalars)
                index = after
                continue
            }
            if let (word, end) = blockedWord(scalars, at: index) {
                let replacement: String
                if word.hasSuffix("(") {
                    replacement = "x-blocked("
                    if word.contains("image") || word == "cross-fade(" || word == "src(" { remote += 1 }
                } else if word.hasPrefix("@") {
                    // An @import's url() is counted where it is rewritten, its string form here; the
                    // renamed rule is dropped by the browser.
                    replacement = "@x-blocked"
                    if word == "@import" {
                        var next = end
                        while next < scalars.count, scalars[next].properties.isWhitespace { next += 1 }
                        if next < scalars.count, scalars[next] == "\"" || scalars[next] == "'" { remote += 1 }
                    }
                } else if word.hasSuffix(":") {
                    replacement = "x-blocked:"
                } else {
                    replacement = "x-blocked"
                }
                output.append(contentsOf: replacement.unicodeScalars)
                index = end
                continue
            }
            output.append(scalar)
            index += 1
        }
        return (String(output), remote)
    }

    /// Words that load or run something, matched case-insensitively.
    private static let blockedWords = [
        "@import", "-webkit-image-set(", "image-set(", "cross-fade(", "element(", "image(", "src(", "expression(",
        "javascript:", "vbscript:", "-moz-binding", "behavior", "@namespace",
    ]

    private static func blockedWord(_ scalars: [Unicode.Scalar], at index: Int) -> (String, Int)? {
        let first = scalars[index]
        guard first == "@" || first == "-" || first.properties.isAlphabetic else { return nil }
        // Only at the start of an identifier, so `background-image(` is not `image(`.
        if index > 0 {
            let before = scalars[index - 1]
            if before.properties.isAlphabetic || before == "-" || before == "_" || ("0"..."9").contains(before) {
                return nil
            }
        }
        for word in blockedWords {
            if let end = match(scalars, at: index, word) { return (word, end) }
        }
        return nil
    }

    /// The index after `word` when it is at `index` (ASCII case-insensitive; blanks allowed before `(`).
    private static func match(_ scalars: [Unicode.Scalar], at index: Int, _ word: String) -> Int? {
        var cursor = index
        for expected in word.unicodeScalars {
            if expected == "(" {
                while cursor < scalars.count, scalars[cursor] == " " || scalars[cursor] == "\t" { cursor += 1 }
            }
            guard cursor < scalars.count else { return nil }
            let actual = scalars[cursor]
            let lowered = ("A"..."Z").contains(actual) ? Unicode.Scalar(actual.value | 0x20)! : actual
            guard lowered == expected else { return nil }
            cursor += 1
        }
        if word == "url(", index > 0 {
            let before = scalars[index - 1]
            if before.properties.isAlphabetic || before == "-" || before == "_" { return nil }
        }
        return cursor
    }

    /// The argument of `url(` (quoted or not, trimmed) and the index after its `)`.
    private static func urlArgument(_ scalars: [Unicode.Scalar], from start: Int) -> (String, Int) {
        var index = start
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        var value = String.UnicodeScalarView()
        if index < scalars.count, scalars[index] == "\"" || scalars[index] == "'" {
            let quote = scalars[index]
            index += 1
            while index < scalars.count, scalars[index] != quote {
                if scalars[index] == "\\", index + 1 < scalars.count {
                    index += 1
                }
                value.append(scalars[index])
                index += 1
            }
            index += 1
        }
        while index < scalars.count, scalars[index] != ")" {
            if !scalars[index].properties.isWhitespace { value.append(scalars[index]) }
            index += 1
        }
        return (String(value), min(scalars.count, index + 1))
    }

    private static func rewrite(url: String, inlineImage: (String) -> String?, remote: inout Int) -> String {
        switch MailURL.classify(url) {
        case .contentID(let id):
            guard let data = inlineImage(id) else { return "none" }
            return "url(\"\(data)\")"
        case .imageData(let data):
            return "url(\"\(data)\")"
        case .remote:
            remote += 1
            return "none"
        case .link, .other:
            return "none"
        }
    }

    private static func removeComments(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(scalars.count)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "/", index + 1 < scalars.count, scalars[index + 1] == "*" {
                index += 2
                while index < scalars.count,
                    !(scalars[index] == "*" && index + 1 < scalars.count && scalars[index + 1] == "/")
                {
                    index += 1
                }
                index += 2
                continue
            }
            output.append(scalars[index])
            index += 1
        }
        return output
    }

    /// CSS escapes decoded, except escaped quotes, backslashes and line breaks, which stay escaped.
    private static func decodeEscapes(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(scalars.count)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "\\", index + 1 < scalars.count else {
                output.append(scalar)
                index += 1
                continue
            }
            let next = scalars[index + 1]
            if next.properties.isASCIIHexDigit {
                var value: UInt32 = 0
                var cursor = index + 1
                while cursor < scalars.count, cursor - index <= 6, scalars[cursor].properties.isASCIIHexDigit {
                    value = value * 16 + UInt32(Int(String(scalars[cursor]), radix: 16)!)
                    cursor += 1
                }
                if cursor < scalars.count, scalars[cursor] == " " || scalars[cursor] == "\t" || scalars[cursor] == "\n"
                {
                    cursor += 1
                }
                let decoded = value == 0 ? "\u{FFFD}" : Unicode.Scalar(value) ?? "\u{FFFD}"
                if decoded == "\"" || decoded == "'" || decoded == "\\" || decoded == "\n" {
                    output += ["\\", next]
                    index += 2
                    continue
                }
                output.append(decoded)
                index = cursor
                continue
            }
            if next == "\"" || next == "'" || next == "\\" || next == "\n" {
                output += ["\\", next]
                index += 2
                continue
            }
            output.append(next)
            index += 2
        }
        return output
    }
}
