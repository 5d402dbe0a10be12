import Foundation

/// What `send` reports: the message id, each recipient's state and the pre-send findings.
public struct SendReceipt: Sendable {
    /// One recipient's line.
    public struct Recipient: Sendable {
        /// The address.
        public var address: String
        /// `to`, `cc` or `bcc`.
        public var kind: String
        /// `queued` (held or not yet delivered), `sent` or `failed`.
        public var delivery: String
        /// The personal link; secret, shown only when the sender asks.
        public var link: String
    }

    /// The new message's id.
    public var messageID: String
    /// Per recipient, in the order given.
    public var recipients: [Recipient]
    /// What the pre-send checks found.
    public var findings: [Finding]
    /// When held notifications go out.
    public var deliverAfter: Date
    /// When the links stop opening.
    public var expiresAt: Date?
}
