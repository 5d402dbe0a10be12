/// An image part of a received message that its HTML body shows inline (`cid:`), opened
/// with the message so the reader can put it into the page as a `data:` URI.
public struct InlineImage: Sendable, Equatable {
    /// The part's Content-ID, without angle brackets.
    public var contentID: String
    /// The image type: image/png, image/gif, image/jpeg or image/webp.
    public var mediaType: String
    /// The image's bytes.
    public var bytes: [UInt8]

    /// Largest single inline image opened with a message.
    public static let maximumSize = 2 << 20
    /// Largest total of inline images opened with one message; beyond it the reader shows a placeholder.
    public static let maximumTotal = 8 << 20
    /// The types shown inline; any other part stays a download.
    public static let mediaTypes: Set<String> = ["image/png", "image/gif", "image/jpeg", "image/jpg", "image/webp"]

    /// An inline image.
    public init(contentID: String, mediaType: String, bytes: [UInt8]) {
        self.contentID = contentID
        self.mediaType = mediaType
        self.bytes = bytes
    }
}
