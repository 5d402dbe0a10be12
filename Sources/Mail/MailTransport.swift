/// Hands rendered mail to the outside world: the file outbox, later SMTP.
///
/// Delivery is at least once: the outbox worker retries after a failure, so a transport
/// should make delivering the same `id` twice harmless where it can.
public protocol MailTransport: Sendable {
    /// Delivers one rendered message (`MailMessage.rendered()`); `id` identifies the delivery
    /// (the outbox row) and is `[A-Za-z0-9_-]{1,64}`.
    func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError)
}
