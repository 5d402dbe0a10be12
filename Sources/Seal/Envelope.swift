import Foundation

/// A message's visible content, sealed as part 0: canonical JSON with sorted `snake_case`
/// keys and an RFC 3339 UTC `sent_at` in whole seconds.
///
/// Bcc recipients are never in the envelope: every reader sees it.
public struct Envelope: Codable, Sendable, Equatable {
    /// The subject line.
    public var subject: String
    /// The sender's address.
    public var from: String
    /// The sender's display name, if any.
    public var fromName: String?
    /// When the message was sent; kept to whole seconds, the precision of the format.
    public var sentAt: Date {
        didSet { sentAt = Self.wholeSeconds(sentAt) }
    }
    /// The plain-text body.
    public var bodyText: String
    /// The HTML body as the sender's mail program wrote it (UTF-8, not sanitised), when the
    /// message had one: only mail the SMTP gateway received has it. The reader sanitises it
    /// and shows it in a sandboxed frame; absent from older envelopes, and left out of the
    /// JSON when nil, so their bytes are unchanged.
    public var bodyHTML: String?
    /// Visible To recipients.
    public var to: [String]
    /// Visible Cc recipients.
    public var cc: [String]
    /// The attachments, each sealed as its own part.
    public var attachments: [AttachmentInfo]

    /// Builds an envelope; `sentAt` is cut to whole seconds.
    public init(
        subject: String,
        from: String,
        fromName: String? = nil,
        sentAt: Date,
        bodyText: String,
        to: [String] = [],
        cc: [String] = [],
        attachments: [AttachmentInfo] = [],
        bodyHTML: String? = nil
    ) {
        self.subject = subject
        self.from = from
        self.fromName = fromName
        self.sentAt = Self.wholeSeconds(sentAt)
        self.bodyText = bodyText
        self.to = to
        self.cc = cc
        self.attachments = attachments
        self.bodyHTML = bodyHTML
    }

    private enum CodingKeys: String, CodingKey {
        case subject
        case from
        case fromName = "from_name"
        case sentAt = "sent_at"
        case bodyText = "body_text"
        case bodyHTML = "body_html"
        case to
        case cc
        case attachments
    }

    /// The canonical JSON bytes to seal as part 0; throws `malformedEnvelope` for attachment
    /// indexes below 1 or repeated, or negative sizes.
    public func encoded() throws -> [UInt8] {
        try validate()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(self))
    }

    /// Decodes part 0; throws `malformedEnvelope` unless it is an envelope of the expected
    /// shape. Unknown keys are ignored so later versions can add fields.
    public static func decode(_ bytes: [UInt8]) throws(SealError) -> Envelope {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let envelope: Envelope
        do {
            envelope = try decoder.decode(Envelope.self, from: Data(bytes))
        } catch {
            throw .malformedEnvelope
        }
        try envelope.validate()
        return envelope
    }

    private func validate() throws(SealError) {
        var seen = Set<Int>()
        for attachment in attachments {
            guard attachment.index >= 1, attachment.size >= 0, seen.insert(attachment.index).inserted else {
                throw .malformedEnvelope
            }
        }
    }

    private static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970).rounded(.down))
    }
}
