import Foundation
import Mail

#if canImport(Glibc)
    import Glibc
#endif

/// What the gateway reads of a received RFC 5322 message before it seals it: a bounded parse
/// of the header fields it needs, read once and shared by the policy, the recall-request
/// recogniser and revoke by reply. The bodies come from `AttachmentExtractor`'s one streaming
/// pass; `fallbackBodies(file:)` parses a small message whole only when that pass found none.
///
/// Nothing here is a reason to refuse mail: a header that does not parse is left out, and the
/// message is sealed as it came.
public struct IncomingMailHeaders: Sendable, Equatable {
    /// The first `From` mailbox, when it parses.
    public var from: MailAddress?
    /// The first `Reply-To` mailbox, when there is one that parses.
    public var replyTo: MailAddress?
    /// The `To` mailboxes that parse.
    public var to: [MailAddress] = []
    /// The `Cc` mailboxes that parse.
    public var cc: [MailAddress] = []
    /// The subject, unfolded and RFC 2047 decoded; empty when absent.
    public var subject = ""
    /// The `Message-ID`, `<left@right>`, when well formed.
    public var messageID: String?
    /// The `In-Reply-To` Message-ID, when well formed.
    public var inReplyTo: String?
    /// The well-formed Message-IDs of `References`, oldest first (at most the last 20).
    public var references: [String] = []
    /// The few other fields the gateway looks at (`OtherField`), unfolded and decoded, by
    /// lower-case name; the first of each.
    public var other: [OtherField: String] = [:]

    /// The other header fields read: those that mark a recall request or automatic mail.
    public enum OtherField: String, Sendable, CaseIterable {
        case threadTopic = "thread-topic"
        case trafficTypeDiagnostic = "x-ms-traffictypediagnostic"
        case recallReportGenerated = "x-ms-exchange-recallreportgenerated"
        case contentType = "content-type"
        case autoSubmitted = "auto-submitted"
        case precedence = "precedence"
        case autoReply = "x-autoreply"
        case autoRespond = "x-autorespond"
    }

    /// Most header bytes read: a header block longer than this is cut here.
    public static let maximumHeaderBytes = 256 << 10
    /// Largest message `fallbackBodies(file:)` parses whole.
    public static let maximumParsedSize = 2 << 20

    /// Creates the headers from their values (tests, and `read(file:)`).
    public init(
        from: MailAddress? = nil, replyTo: MailAddress? = nil, to: [MailAddress] = [], cc: [MailAddress] = [],
        subject: String = "", messageID: String? = nil, inReplyTo: String? = nil, references: [String] = [],
        other: [OtherField: String] = [:]
    ) {
        self.from = from
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.subject = subject
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.other = other
    }

    /// Reads the header block of the file (at most `maximumHeaderBytes`); throws only when
    /// the file cannot be read.
    public static func read(file: URL) throws(RetractError) -> IncomingMailHeaders {
        let (bytes, _) = try prefix(of: file, upTo: maximumHeaderBytes)
        return parse(bytes)
    }

    /// The first text/plain and text/html parts of a message of at most `maximumParsedSize`
    /// bytes, parsed whole: what the reader shows when the streaming extraction found neither
    /// (MIME it could not split). Nil for a larger message or one that does not parse.
    public static func fallbackBodies(file: URL) -> (text: String?, html: String?)? {
        guard let (bytes, whole) = try? prefix(of: file, upTo: maximumParsedSize), whole,
            let mail = try? ParsedMail(parsing: bytes)
        else { return nil }
        return (mail.textBody, mail.htmlBody)
    }

    /// The first `limit` bytes of the file, and whether they are all of it.
    static func prefix(of file: URL, upTo limit: Int) throws(RetractError) -> (bytes: [UInt8], whole: Bool) {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RetractError(
                .attachmentUnreadable,
                "the received message \(file.path) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw RetractError(.attachmentUnreadable, "the received message \(file.path) is not a regular file")
        }
        let size = Int64(info.st_size)
        let wanted = Int(min(size, Int64(limit)))
        var bytes = [UInt8](repeating: 0, count: wanted)
        var filled = 0
        while filled < wanted {
            let got = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + filled, wanted - filled, off_t(filled))
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                throw RetractError(
                    .attachmentUnreadable,
                    "the received message \(file.path) could not be read: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            filled += got
        }
        bytes.removeLast(wanted - filled)
        return (bytes, Int64(filled) == size)
    }

    /// The header fields of `bytes` (a message or its beginning).
    static func parse(_ bytes: [UInt8]) -> IncomingMailHeaders {
        let block = headerBlock(bytes)
        // Only the fields read here, each on its own, so one odd field cannot hide the others.
        let wanted = Set(["from", "reply-to", "to", "cc", "subject", "message-id", "in-reply-to", "references"])
            .union(OtherField.allCases.map(\.rawValue))
        var fields: [(name: String, raw: String)] = []
        for field in unfoldedFields(block) where wanted.contains(field.name.lowercased()) {
            fields.append(field)
        }
        var headers = IncomingMailHeaders()
        func parsed(_ name: String) -> ParsedMail? {
            let lines = fields.filter { $0.name.lowercased() == name }.map { "\($0.name): \($0.raw)\r\n" }.joined()
            guard !lines.isEmpty else { return nil }
            return try? ParsedMail(parsing: Array((lines + "\r\n").utf8))
        }
        headers.from = (try? parsed("from")?.addresses("From"))?.first
        headers.replyTo = (try? parsed("reply-to")?.addresses("Reply-To"))?.first
        headers.to = (try? parsed("to")?.addresses("To")) ?? []
        headers.cc = (try? parsed("cc")?.addresses("Cc")) ?? []
        headers.subject = HeaderText.oneLine(parsed("subject")?.header("Subject") ?? "", fallback: "")
        let raw = { (name: String) in fields.first { $0.name.lowercased() == name }?.raw ?? "" }
        headers.messageID = messageIDs(raw("message-id")).first
        headers.inReplyTo = messageIDs(raw("in-reply-to")).first
        headers.references = Array(messageIDs(raw("references")).suffix(20))
        for field in OtherField.allCases {
            if let value = parsed(field.rawValue)?.header(field.rawValue) {
                headers.other[field] = HeaderText.oneLine(value, fallback: "")
            }
        }
        return headers
    }

    /// The bytes before the first empty line (all of them when there is none), as text.
    private static func headerBlock(_ bytes: [UInt8]) -> String {
        var end = bytes.count
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                let next = index + 1
                if next < bytes.count, bytes[next] == 0x0A { end = index; break }
                if next + 1 < bytes.count, bytes[next] == 0x0D, bytes[next + 1] == 0x0A { end = index; break }
            }
            index += 1
        }
        return ParsedMail.headerText(Array(bytes[0..<end]))
    }

    /// `name: value` fields with continuation lines joined; lines that are not fields are skipped.
    private static func unfoldedFields(_ block: String) -> [(name: String, raw: String)] {
        var fields: [(name: String, raw: String)] = []
        for line in block.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let text = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if let first = text.first, first == " " || first == "\t" {
                if !fields.isEmpty { fields[fields.count - 1].raw += " " + text.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = String(text[..<colon])
            guard !name.isEmpty, name.count <= 76, name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { continue }
            fields.append((name, text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return fields
    }

    /// The `<left@right>` tokens of a field, in order, each at most 250 characters and free
    /// of blanks and controls.
    static func messageIDs(_ value: String) -> [String] {
        var ids: [String] = []
        var rest = value[...]
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let candidate = String(rest[open...close])
            rest = rest[rest.index(after: close)...]
            let inner = candidate.dropFirst().dropLast()
            guard candidate.utf8.count <= 250, inner.filter({ $0 == "@" }).count == 1,
                inner.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" })
            else { continue }
            ids.append(candidate)
        }
        return ids
    }
}
