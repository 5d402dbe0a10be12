import Foundation

/// A small RFC 5322 / MIME reader, for tests and the dev mailbox page.
///
/// It understands what mail tools commonly write: folded headers, RFC 2047 encoded-words
/// (B and Q, in every charset `Charset` knows), nested multipart bodies, quoted-printable,
/// base64, 7bit and 8bit parts, CRLF or bare LF line endings. It is lenient where that is
/// harmless and throws `MailError.malformedMail` where it cannot go on. Bodies are decoded
/// from their `charset` parameter through `Charset` (UTF-8 when there is none); raw 8-bit
/// header bytes are UTF-8 when they are valid UTF-8, else Windows-1252.
///
/// The message is read as one byte per character (ISO-8859-1, lossless) to find its
/// structure, so an 8-bit body in any charset reaches its decoder byte for byte.
public struct ParsedMail: Sendable {
    /// Every header field in order, unfolded and RFC 2047 decoded.
    public let headerFields: [(name: String, value: String)]
    /// Every header field in order, unfolded but not decoded, for parsing structured fields.
    private let rawHeaderFields: [(name: String, value: String)]
    /// The first text/plain part, decoded, with LF line endings.
    public let textBody: String?
    /// The first text/html part, decoded, with LF line endings.
    public let htmlBody: String?
    /// Charset labels of text parts that `Charset` does not know (those parts were read as UTF-8).
    public let unknownCharsets: [String]

    /// How deep multipart bodies may nest before the mail is refused.
    private static let maximumDepth = 8

    /// Parses a whole message.
    public init(parsing bytes: [UInt8]) throws(MailError) {
        let text = Self.byteString(bytes).replacingOccurrences(of: "\r\n", with: "\n")
        var bodies = Bodies()
        let entity = try Self.parseEntity(text[...])
        self.headerFields = entity.headers.map { ($0.name, EncodedWord.decode($0.value)) }
        self.rawHeaderFields = entity.headers
        try Self.collectBodies(entity, depth: 0, into: &bodies)
        self.textBody = bodies.text
        self.htmlBody = bodies.html
        self.unknownCharsets = bodies.unknownCharsets
    }

    /// What `collectBodies` found.
    private struct Bodies {
        var text: String?
        var html: String?
        var unknownCharsets: [String] = []
    }

    /// The bytes as a string of one character per byte (U+0000–U+00FF), so nothing is lost
    /// before each part is decoded from its own charset.
    private static func byteString(_ bytes: some Collection<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    /// The bytes `byteString` was made from.
    private static func bytes(of text: some StringProtocol) -> [UInt8] {
        text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
    }

    /// A header field's bytes as text: UTF-8 when they are valid UTF-8 (RFC 6532), else Windows-1252.
    public static func headerText(_ bytes: [UInt8]) -> String {
        guard bytes.contains(where: { $0 >= 0x80 }) else { return String(decoding: bytes, as: UTF8.self) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return Charset.decode(bytes, label: "windows-1252").text
    }

    /// The first value of a header, unfolded and decoded; the name is case-insensitive.
    public func header(_ name: String) -> String? {
        self.headers(name).first
    }

    /// All values of a header, in order.
    public func headers(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return self.headerFields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// The mailboxes of an address header (`From`, `To`, `Cc`, `Reply-To`), with display
    /// names decoded and unquoted; empty when the header is absent.
    ///
    /// Parsed before decoding, so a decoded name holding `<`, `,` or quotes cannot confuse it.
    public func addresses(_ name: String) throws(MailError) -> [MailAddress] {
        let wanted = name.lowercased()
        var result: [MailAddress] = []
        for field in self.rawHeaderFields where field.name.lowercased() == wanted {
            for item in Self.splitAddressList(field.value) {
                result.append(try Self.mailbox(item))
            }
        }
        return result
    }

    /// Splits an address list at commas outside quoted strings and angle brackets.
    private static func splitAddressList(_ value: String) -> [String] {
        var items: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        var angle = false
        for character in value {
            if escaped {
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if !quoted && character == "<" {
                angle = true
            } else if !quoted && character == ">" {
                angle = false
            } else if !quoted && !angle && character == "," {
                items.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        items.append(current)
        return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// One `phrase <addr-spec>` or bare `addr-spec`, the phrase unquoted or RFC 2047 decoded.
    private static func mailbox(_ item: String) throws(MailError) -> MailAddress {
        guard item.hasSuffix(">"), let open = item.lastIndex(of: "<") else {
            return try MailAddress(address: item, displayName: nil)
        }
        let address = String(item[item.index(after: open)..<item.index(before: item.endIndex)])
        let phrase = item[..<open].trimmingCharacters(in: .whitespaces)
        var name = ""
        if phrase.count >= 2, phrase.hasPrefix("\""), phrase.hasSuffix("\"") {
            var escaped = false
            for character in phrase.dropFirst().dropLast() {
                if !escaped && character == "\\" {
                    escaped = true
                } else {
                    name.append(character)
                    escaped = false
                }
            }
        } else {
            name = EncodedWord.decode(phrase)
        }
        return try MailAddress(address: address, displayName: name)
    }

    /// The http(s) URLs that stand alone on a line of the text body (surrounding spaces allowed).
    public var links: [String] {
        guard let textBody else { return [] }
        return textBody.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            let candidate = line.trimmingCharacters(in: .whitespaces)
            let lowered = candidate.lowercased()
            guard lowered.hasPrefix("https://") || lowered.hasPrefix("http://") else { return nil }
            guard !candidate.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else { return nil }
            return candidate
        }
    }

    // MARK: Entities

    private struct Entity {
        var headers: [(name: String, value: String)]
        var body: Substring

        func header(_ name: String) -> String? {
            self.headers.first { $0.name.lowercased() == name }?.value
        }
    }

    /// Splits headers from body at the first empty line and unfolds the headers.
    private static func parseEntity(_ text: Substring) throws(MailError) -> Entity {
        var headers: [(name: String, value: String)] = []
        var rawFields: [String] = []
        var rest = text
        while !rest.isEmpty {
            let lineEnd = rest.firstIndex(of: "\n") ?? rest.endIndex
            let line = rest[..<lineEnd]
            rest = lineEnd == rest.endIndex ? rest[rest.endIndex...] : rest[rest.index(after: lineEnd)...]
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t" {
                guard !rawFields.isEmpty else {
                    throw MailError.malformedMail.with(
                        "the first header line starts with whitespace; the mail is damaged")
                }
                rawFields[rawFields.count - 1] += line
            } else {
                rawFields.append(String(line))
            }
        }
        for field in rawFields {
            guard let colon = field.firstIndex(of: ":") else {
                throw MailError.malformedMail.with(
                    "the header line \(MailError.quote(Self.headerText(Self.bytes(of: field)))) has no ':'; "
                        + "headers must read Name: value")
            }
            let name = Self.headerText(Self.bytes(of: field[..<colon])).trimmingCharacters(in: .whitespaces)
            let value = Self.headerText(Self.bytes(of: field[field.index(after: colon)...]))
                .trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        return Entity(headers: headers, body: rest)
    }

    private static func collectBodies(_ entity: Entity, depth: Int, into bodies: inout Bodies) throws(MailError) {
        let contentType = HeaderParameters(entity.header("content-type") ?? "text/plain")
        let type = contentType.value.lowercased()
        if type.hasPrefix("multipart/") {
            guard depth < Self.maximumDepth else {
                throw MailError.malformedMail.with("multipart bodies nest deeper than \(Self.maximumDepth) levels")
            }
            guard let boundary = contentType["boundary"], !boundary.isEmpty else {
                throw MailError.malformedMail.with("a \(type) part has no boundary parameter")
            }
            for part in Self.split(entity.body, boundary: boundary) {
                try Self.collectBodies(Self.parseEntity(part), depth: depth + 1, into: &bodies)
            }
            return
        }
        guard type == "text/plain" || type == "text/html" else { return }
        let disposition = entity.header("content-disposition")?.lowercased() ?? ""
        guard !disposition.hasPrefix("attachment") else { return }
        guard (type == "text/plain" && bodies.text == nil) || (type == "text/html" && bodies.html == nil) else { return }
        let raw = Self.decodeTransfer(entity.body, encoding: entity.header("content-transfer-encoding"))
        let decoded = Charset.decode(raw, label: contentType["charset"])
        if !decoded.charsetIsKnown, let label = contentType["charset"] { bodies.unknownCharsets.append(label) }
        let text = decoded.text.replacingOccurrences(of: "\r\n", with: "\n")
        if type == "text/plain" { bodies.text = text } else { bodies.html = text }
    }

    /// The parts between `--boundary` lines, without the line break before each delimiter.
    private static func split(_ body: Substring, boundary: String) -> [Substring] {
        let delimiter = "--" + boundary
        var parts: [Substring] = []
        var partStart: Substring.Index? = nil
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: "\n") ?? body.endIndex
            let line = body[lineStart..<lineEnd]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == delimiter || trimmed == delimiter + "--" {
                if let start = partStart {
                    // The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
                    let end = lineStart > start ? body.index(before: lineStart) : start
                    parts.append(body[start..<end])
                }
                if trimmed != delimiter { return parts }
                partStart = lineEnd == body.endIndex ? lineEnd : body.index(after: lineEnd)
            }
            lineStart = lineEnd == body.endIndex ? lineEnd : body.index(after: lineEnd)
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return parts
    }

    /// The body's bytes with its transfer encoding undone (still in its charset).
    private static func decodeTransfer(_ body: Substring, encoding: String?) -> [UInt8] {
        switch encoding?.lowercased().trimmingCharacters(in: .whitespaces) {
        case "quoted-printable":
            return QuotedPrintable.decode(bytes: Self.bytes(of: body))
        case "base64":
            let compact = body.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: String(compact), options: .ignoreUnknownCharacters) else {
                return Self.bytes(of: body)
            }
            return [UInt8](data)
        default:
            return Self.bytes(of: body)
        }
    }
}
