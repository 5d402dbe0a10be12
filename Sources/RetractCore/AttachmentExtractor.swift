import Foundation
import Mail

/// Splits the attachments out of a received MIME message into files of their own, so each
/// is sealed as a part and the reader streams it; the whole original is sealed beside them.
///
/// One pass over the file, line by line through a 64 KiB buffer, never the whole message in
/// memory: a stack of multipart boundaries, each leaf's header block, and for a leaf that is
/// an attachment (a file name, `Content-Disposition: attachment`, or any type but a
/// text/plain or text/html body) its content decoded (base64, quoted-printable, or as it
/// is) into a file in `directory`. Anything it does not understand (a line over 64 KiB,
/// nesting deeper than 50, a header block over 64 KiB) ends the extraction: the files made
/// so far are removed and nothing is extracted, and the message is still sealed whole.
/// Mail is never refused or lost for its MIME.
///
/// The same pass keeps the first text/plain and the first text/html body (not attachments)
/// in memory, each up to `maximumBody` bytes after its transfer encoding, and decodes them
/// from their `charset` through `Charset`: the reader shows them whatever the message's size.
/// A `format=flowed` text body (Thunderbird, Apple Mail) is unflowed through `FlowedText`;
/// Apple Mail's HTML fragments around an attachment in rich text (the text/html parts of one
/// multipart/mixed) are joined into one HTML body.
struct AttachmentExtractor {
    /// One attachment on disk.
    struct Extracted {
        var url: URL
        var name: String
        var mediaType: String
        /// The part's `Content-ID` without its angle brackets, for `cid:` references in the HTML body.
        var contentID: String?
    }

    /// The attachments and the bodies of one message.
    struct Extraction {
        /// The attachments on disk; the caller removes the files.
        var parts: [Extracted] = []
        /// The first text/plain body, decoded; cut at `maximumBody` bytes (with a note).
        var text: String?
        /// The first text/html body (with the fragments that continue it in the same multipart/mixed),
        /// decoded; nil when there is none or it is over `maximumBody`.
        var html: String?
        /// True when a text/html body was there but over `maximumBody`.
        var htmlTooLarge = false
    }

    /// Largest body kept for the reader (after its transfer encoding, before its charset).
    static let maximumBody = 4 << 20

    static let maximumLine = 64 << 10
    static let maximumDepth = 50
    static let maximumHeaderBlock = 64 << 10

    /// The attachments of `file`, at most `limit`, written into `directory`; empty when it
    /// has none or cannot be split. The caller removes the files.
    static func extract(from file: URL, into directory: URL, limit: Int) -> [Extracted] {
        extractWithBodies(from: file, into: directory, limit: limit).parts
    }

    /// `extract`, and the message's first text/plain and text/html bodies; all empty when
    /// the message cannot be split.
    static func extractWithBodies(from file: URL, into directory: URL, limit: Int) -> Extraction {
        guard let input = FileHandle(forReadingAtPath: file.path) else { return Extraction() }
        defer { try? input.close() }
        var extractor = AttachmentExtractor(directory: directory, limit: max(0, limit))
        var pending: [UInt8] = []
        var ok = true
        reading: while ok {
            let chunk: Data
            do {
                guard let data = try input.read(upToCount: 64 << 10), !data.isEmpty else { break }
                chunk = data
            } catch {
                ok = false
                break
            }
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                ok = extractor.line(pending[start...newline])
                start = newline + 1
                if !ok { break reading }
            }
            pending.removeFirst(start)
            if pending.count > maximumLine { ok = false }
        }
        if ok, !pending.isEmpty { ok = extractor.line(pending[...]) }
        if ok { extractor.closeLeaf() }
        if !ok || extractor.failed {
            extractor.removeAll()
            return Extraction()
        }
        return Extraction(
            parts: extractor.extracted, text: extractor.bodies.text, html: extractor.bodies.html,
            htmlTooLarge: extractor.bodies.htmlTooLarge)
    }

    // MARK: State

    private enum Mode {
        /// Reading a part's header block.
        case headers
        /// Inside a multipart's preamble or epilogue, or a leaf not extracted.
        case skipping
        /// Writing a leaf's decoded content.
        case writing
        /// Keeping a text body's decoded content in memory.
        case capturing
    }

    /// A text body being kept.
    private struct Capture {
        var isHTML: Bool
        var charset: String?
        /// `format=flowed` (RFC 3676) text, and its `delsp=yes`.
        var flowed = false
        var deleteSpace = false
        /// Bytes of HTML kept already that this fragment joins (they count towards `maximumBody`).
        var held = 0
        var bytes: [UInt8] = []
        var overflowed = false
    }

    private let directory: URL
    private let limit: Int
    private var boundaries: [String] = []
    /// The media type of each open multipart, beside its boundary.
    private var multipartTypes: [String] = []
    /// How many multiparts were open around the first text/html body (nil before one).
    private var htmlDepth: Int?
    private var mode = Mode.headers
    private var headerLines: [String] = []
    private var headerBytes = 0
    private var output: FileHandle?
    private var outputURL: URL?
    private var encoding = ""
    private var base64Carry: [UInt8] = []
    /// The line end owed to a raw leaf's previous line: written only if another content line
    /// follows (the one before a boundary belongs to the boundary).
    private var owedLineEnd: [UInt8] = []
    private(set) var extracted: [Extracted] = []
    private(set) var failed = false
    private var current: (name: String, mediaType: String, contentID: String?)?
    private var capture: Capture?
    private var bodies = Extraction()
    private var sawText = false
    private var sawHTML = false

    private init(directory: URL, limit: Int) {
        self.directory = directory
        self.limit = limit
    }

    /// Takes one line with its line end; false stops the extraction.
    private mutating func line(_ raw: ArraySlice<UInt8>) -> Bool {
        if failed { return false }
        var content = raw
        var lineEnd: [UInt8] = []
        if content.last == 0x0A {
            content.removeLast()
            lineEnd = [0x0A]
            if content.last == 0x0D {
                content.removeLast()
                lineEnd = [0x0D, 0x0A]
            }
        }
        if mode != .headers, content.count >= 2, content.first == 0x2D, content[content.startIndex + 1] == 0x2D,
            let (index, closing) = boundary(content)
        {
            closeLeaf()
            if closing {
                boundaries.removeSubrange(index...)
                multipartTypes.removeSubrange(index...)
                mode = .skipping
            } else {
                boundaries.removeSubrange((index + 1)...)
                multipartTypes.removeSubrange((index + 1)...)
                mode = .headers
                headerLines = []
                headerBytes = 0
            }
            return !failed
        }
        switch mode {
        case .headers:
            headerBytes += raw.count
            guard headerBytes <= Self.maximumHeaderBlock else { return false }
            let text = String(decoding: content, as: UTF8.self)
            if content.isEmpty {
                return startPart()
            }
            if let first = text.first, first == " " || first == "\t", !headerLines.isEmpty {
                headerLines[headerLines.count - 1] += " " + text.trimmingCharacters(in: .whitespaces)
            } else {
                headerLines.append(text)
            }
        case .skipping:
            break
        case .writing, .capturing:
            write(content, lineEnd: lineEnd)
        }
        return !failed
    }

    /// The innermost open boundary this line is (`--b` or `--b--`), with whether it closes.
    private func boundary(_ content: ArraySlice<UInt8>) -> (Int, Bool)? {
        var text = String(decoding: content.dropFirst(2), as: UTF8.self)
        while text.last == " " || text.last == "\t" { text.removeLast() }
        for index in boundaries.indices.reversed() {
            if text == boundaries[index] { return (index, false) }
            if text == boundaries[index] + "--" { return (index, true) }
        }
        return nil
    }

    /// A part's header block ended: a multipart opens a boundary, a leaf is skipped or written.
    private mutating func startPart() -> Bool {
        let lines = headerLines
        let field = { (name: String) -> String? in
            lines.first { $0.lowercased().hasPrefix(name + ":") }.map {
                String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
            }
        }
        let type = HeaderParameters(field("content-type") ?? "text/plain")
        let mediaType = type.value.lowercased().isEmpty ? "text/plain" : type.value.lowercased()
        if mediaType.hasPrefix("multipart/") {
            guard let boundary = type["boundary"], !boundary.isEmpty, boundaries.count < Self.maximumDepth else {
                return false
            }
            boundaries.append(boundary)
            multipartTypes.append(mediaType)
            mode = .skipping
            return true
        }
        let disposition = HeaderParameters(field("content-disposition") ?? "")
        let fileName = Self.decodedName(
            disposition.extendedValue("filename") ?? disposition["filename"] ?? type.extendedValue("name")
                ?? type["name"])
        let isBody =
            (mediaType == "text/plain" || mediaType == "text/html") && fileName == nil
            && disposition.value.lowercased() != "attachment"
        encoding = (field("content-transfer-encoding") ?? "").lowercased().trimmingCharacters(in: .whitespaces)
        base64Carry = []
        owedLineEnd = []
        if isBody {
            let isHTML = mediaType == "text/html"
            // Apple Mail keeps an attachment where it sits in rich text: a multipart/mixed of
            // text/html, the attachment, text/html. The fragments after the first are the rest
            // of the same body, so they are kept, joined to it.
            let continuesHTML =
                isHTML && bodies.html != nil && htmlDepth == boundaries.count
                && multipartTypes.last == "multipart/mixed"
            guard isHTML ? !sawHTML || continuesHTML : !sawText else {
                mode = .skipping
                return true
            }
            if isHTML {
                sawHTML = true
                htmlDepth = boundaries.count
            } else {
                sawText = true
            }
            capture = Capture(
                isHTML: isHTML, charset: type["charset"], flowed: !isHTML && FlowedText.isFlowed(type["format"]),
                deleteSpace: type["delsp"]?.lowercased() == "yes",
                held: continuesHTML ? bodies.html?.utf8.count ?? 0 : 0)
            mode = .capturing
            return true
        }
        guard extracted.count < limit else {
            mode = .skipping
            return true
        }
        let number = extracted.count + 1
        let name = AttachmentName.cleaned(fileName ?? Self.fallbackName(mediaType: mediaType, number: number))
        let url = directory.appendingPathComponent(".retract-part-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: url.path)
        else {
            failed = true
            return false
        }
        output = handle
        outputURL = url
        current = (name, Self.plausibleMediaType(mediaType), Self.contentID(field("content-id")))
        mode = .writing
        return true
    }

    /// The name of a part that has none: a forwarded message is `message-N.eml`, a calendar
    /// part (Outlook's text/calendar invitation inside multipart/alternative) `invitation-N.ics`,
    /// so a click opens it in the right program; anything else `attachment-N`.
    static func fallbackName(mediaType: String, number: Int) -> String {
        switch mediaType {
        case "message/rfc822": "message-\(number).eml"
        case "text/calendar": "invitation-\(number).ics"
        default: "attachment-\(number)"
        }
    }

    /// `<id>` of a Content-ID field without its brackets, when it is printable ASCII of at most 250 bytes.
    static func contentID(_ raw: String?) -> String? {
        guard var text = raw?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.hasPrefix("<"), text.hasSuffix(">"), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.utf8.count <= 250,
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" })
        else { return nil }
        return text
    }

    /// Writes one content line of the current leaf (or the body being kept), decoded.
    private mutating func write(_ content: ArraySlice<UInt8>, lineEnd: [UInt8]) {
        guard output != nil || capture != nil else { return }
        var bytes: [UInt8]
        switch encoding {
        case "base64":
            base64Carry += content.filter { Self.isBase64($0) }
            let whole = base64Carry.count / 4 * 4
            bytes = Data(base64Encoded: Data(base64Carry[0..<whole])).map { [UInt8]($0) } ?? []
            base64Carry.removeFirst(whole)
        case "quoted-printable":
            let (decoded, soft) = Self.decodeQuotedPrintableLine(content)
            bytes = owedLineEnd + decoded
            owedLineEnd = soft ? [] : lineEnd
        default:
            bytes = owedLineEnd + content
            owedLineEnd = lineEnd
        }
        emit(bytes)
    }

    /// Appends decoded bytes to the leaf's file or the kept body.
    private mutating func emit(_ bytes: [UInt8]) {
        // Mutated in place: a copy out of the optional and back would copy the whole kept
        // body on every line (quadratic in its size).
        if capture != nil {
            if capture!.held + capture!.bytes.count + bytes.count > Self.maximumBody {
                capture!.overflowed = true
                capture!.bytes += bytes.prefix(max(0, Self.maximumBody - capture!.held - capture!.bytes.count))
            } else {
                capture!.bytes += bytes
            }
            return
        }
        guard let output else { return }
        do {
            try output.write(contentsOf: bytes)
        } catch {
            failed = true
        }
    }

    /// Finishes the current leaf, if any.
    mutating func closeLeaf() {
        if capture != nil {
            if encoding == "base64", !base64Carry.isEmpty {
                while base64Carry.count % 4 != 0 { base64Carry.append(0x3D) }
                if let tail = Data(base64Encoded: Data(base64Carry)) { emit([UInt8](tail)) }
            }
            finishCapture()
            return
        }
        guard let output, let outputURL, let current else { return }
        if encoding == "base64", !base64Carry.isEmpty {
            while base64Carry.count % 4 != 0 { base64Carry.append(0x3D) }
            if let tail = Data(base64Encoded: Data(base64Carry)) { try? output.write(contentsOf: tail) }
        }
        do {
            try output.close()
        } catch {
            failed = true
        }
        extracted.append(
            Extracted(url: outputURL, name: current.name, mediaType: current.mediaType, contentID: current.contentID))
        self.output = nil
        self.outputURL = nil
        self.current = nil
        base64Carry = []
        owedLineEnd = []
    }

    /// Decodes the kept body from its charset into `bodies`.
    private mutating func finishCapture() {
        guard let kept = capture else { return }
        capture = nil
        base64Carry = []
        owedLineEnd = []
        if kept.isHTML {
            if kept.overflowed {
                bodies.htmlTooLarge = true
                bodies.html = nil
            } else {
                let fragment = Charset.decode(kept.bytes, label: kept.charset).text
                    .replacingOccurrences(of: "\r\n", with: "\n")
                bodies.html = bodies.html.map { $0 + "\n" + fragment } ?? fragment
            }
        } else {
            var text = Charset.decode(kept.bytes, label: kept.charset).text.replacingOccurrences(of: "\r\n", with: "\n")
            if kept.flowed { text = FlowedText.unflow(text, deleteSpace: kept.deleteSpace) }
            if kept.overflowed { text += "\n[…] The rest of this text is in the original message (original.eml)." }
            bodies.text = text
        }
    }

    /// Removes every file made.
    mutating func removeAll() {
        try? output?.close()
        for url in extracted.map(\.url) + [outputURL].compactMap({ $0 }) {
            try? FileManager.default.removeItem(at: url)
        }
        extracted = []
    }

    private static func isBase64(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2B
            || byte == 0x2F
    }

    /// One quoted-printable line decoded (without its line end), and whether it ends in a
    /// soft break.
    private static func decodeQuotedPrintableLine(_ content: ArraySlice<UInt8>) -> (bytes: [UInt8], soft: Bool) {
        var line = Array(content)
        while let last = line.last, last == 0x20 || last == 0x09 { line.removeLast() }
        var soft = false
        if line.last == 0x3D {
            line.removeLast()
            soft = true
        }
        var out: [UInt8] = []
        var index = 0
        while index < line.count {
            if line[index] == 0x3D, index + 2 < line.count,
                let value = UInt8(String(decoding: line[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                out.append(value)
                index += 3
            } else {
                out.append(line[index])
                index += 1
            }
        }
        return (out, soft)
    }

    /// A file name from a header parameter, RFC 2047 encoded-words decoded.
    private static func decodedName(_ raw: String?) -> String? {
        guard let raw, !raw.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        guard raw.contains("=?"),
            let parsed = try? ParsedMail(parsing: Array("Subject: \(raw)\r\n\r\n".utf8)),
            let decoded = parsed.header("Subject")
        else { return raw }
        return decoded
    }

    /// `type/subtype` when it looks like one, else application/octet-stream.
    private static func plausibleMediaType(_ text: String) -> String {
        let parts = text.split(separator: "/")
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$&-^_.+")
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 64 && $0.allSatisfy(allowed.contains) })
        else {
            return "application/octet-stream"
        }
        return text
    }
}
