/// What the envelope says about one attachment; its bytes are sealed as part `index`.
public struct AttachmentInfo: Codable, Sendable, Equatable {
    /// The part index that holds the attachment's bytes (1-based; part 0 is the envelope).
    public var index: Int
    /// The file name shown to the reader.
    public var name: String
    /// The plaintext size in bytes.
    public var size: Int64
    /// The media type, e.g. `application/pdf`.
    public var mediaType: String
    /// The MIME part's `Content-ID` without angle brackets, when it had one: the HTML body
    /// refers to inline images as `cid:` this. Absent from older envelopes and omitted when nil.
    public var contentID: String?

    /// Describes one attachment.
    public init(index: Int, name: String, size: Int64, mediaType: String, contentID: String? = nil) {
        self.index = index
        self.name = name
        self.size = size
        self.mediaType = mediaType
        self.contentID = contentID
    }

    private enum CodingKeys: String, CodingKey {
        case index
        case name
        case size
        case mediaType = "media_type"
        case contentID = "content_id"
    }
}
