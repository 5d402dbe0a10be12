/// One mail handed to `MailTransport.deliverInOrder(contents:gate:outcome:)`: its content,
/// its envelope and its delivery id.
public struct OutboundMail: Sendable {
    /// The message, in memory or streamed.
    public var content: MailContent
    /// Who it goes to.
    public var envelope: MailEnvelope
    /// The delivery id (the outbox row), `[A-Za-z0-9_-]{1,64}`.
    public var id: String

    /// Describes one mail.
    public init(content: MailContent, envelope: MailEnvelope, id: String) {
        self.content = content
        self.envelope = envelope
        self.id = id
    }
}
