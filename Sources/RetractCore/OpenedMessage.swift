import Foundation
import Seal

/// A message opened in memory for one recipient.
public struct OpenedMessage: Sendable {
    /// The message id.
    public var messageID: String
    /// The decrypted envelope: subject, sender, body, attachment list.
    public var envelope: Envelope
    /// The recipient the link belongs to.
    public var recipient: String
    /// The locale the sender chose.
    public var locale: String
    /// The inline images the HTML body refers to (`cid:`), within `InlineImage.maximumTotal`;
    /// empty for a message without HTML.
    public var inlineImages: [InlineImage] = []
}
