/// What a URL in a mail's HTML or CSS points at, as the sanitiser needs to know it.
///
/// Classified the way a browser would read it: ASCII tabs and line breaks anywhere and
/// controls and blanks around it are ignored, the scheme is case-insensitive, and `//host`,
/// `\\host` and `/\host` are remote (a browser resolves them against the page's origin to
/// another host).
public enum MailURL: Sendable, Equatable {
    /// `cid:id`: an inline part of the same message (the id percent-decoded).
    case contentID(String)
    /// `data:image/png|gif|jpeg|webp…`: an image inside the mail itself (the URL, cleaned).
    case imageData(String)
    /// http:, https:, or a scheme-relative `//host`: something on another server.
    case remote
    /// `http:`, `https:` or `mailto:` as a link target (only for `href`; the URL, cleaned).
    case link(String)
    /// Anything else: javascript:, vbscript:, other data:, file:, relative paths.
    case other

    /// The image types a `data:` URI may carry.
    static let imageTypes = ["image/png", "image/gif", "image/jpeg", "image/jpg", "image/webp"]

    /// Classifies an image source (`src`, `background`, CSS `url()`).
    public static func classify(_ raw: String) -> MailURL {
        let url = cleaned(raw)
        let lower = url.lowercased()
        if lower.hasPrefix("cid:") {
            let id = String(url.dropFirst(4))
            return .contentID(id.removingPercentEncodingLeniently())
        }
        if lower.hasPrefix("data:") {
            let type = lower.dropFirst(5).prefix { $0 != ";" && $0 != "," }
            guard imageTypes.contains(String(type)),
                url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "'" })
            else { return .other }
            return .imageData(url)
        }
        if isRemote(lower) { return .remote }
        return .other
    }

    /// Classifies a link target (`href`): http, https and mailto are links, everything else `other`.
    public static func classifyLink(_ raw: String) -> MailURL {
        let url = cleaned(raw)
        let lower = url.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("mailto:") {
            return .link(url)
        }
        return .other
    }

    private static func isRemote(_ lower: String) -> Bool {
        if lower.hasPrefix("http:") || lower.hasPrefix("https:") || lower.hasPrefix("ftp:") { return true }
        let start = lower.prefix(2)
        return start == "//" || start == "\\\\" || start == "/\\" || start == "\\/"
    }

    /// The URL without ASCII tabs and line breaks, and without controls and blanks at its ends.
    static func cleaned(_ raw: String) -> String {
        var scalars = raw.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }
        while let first = scalars.first, first.value <= 0x20 { scalars.removeFirst() }
        while let last = scalars.last, last.value <= 0x20 { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}

extension String {
    /// `%XX` decoded where it forms UTF-8; the text as it is otherwise.
    fileprivate func removingPercentEncodingLeniently() -> String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        let utf8 = Array(self.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}
