/// One mail as the SMTP client sends it: the envelope, the rendered bytes, and what the
/// bytes need from the server (8BITMIME, SMTPUTF8).
struct SMTPMailTransaction: Sendable, Hashable {
    /// The delivery id, for reports and error messages.
    let id: String
    /// The reverse path; empty for the null sender `<>`.
    let mailFrom: String
    /// The forward paths, in order.
    let recipients: [String]
    /// The message as handed to the transport; the encoder prepares it for DATA.
    let content: [UInt8]
    /// Whether any byte of the message is outside ASCII (then `BODY=8BITMIME` is declared when offered).
    let is8Bit: Bool
    /// Whether an address is outside ASCII, which only a server offering SMTPUTF8 may receive.
    let needsSMTPUTF8: Bool
    /// Whether the caller must be asked (`SMTPClientStateMachine.Action.askGate`) at the last
    /// moment before the server could accept the mail.
    let gated: Bool

    /// Prepares a transaction; the flags are computed from the bytes and the envelope.
    init(id: String, envelope: MailEnvelope, content: [UInt8], gated: Bool = false) {
        self.gated = gated
        self.id = id
        self.mailFrom = envelope.mailFrom
        self.recipients = envelope.recipients
        self.content = content
        self.is8Bit = content.contains { $0 >= 0x80 }
        self.needsSMTPUTF8 = ([envelope.mailFrom] + envelope.recipients).contains { !$0.utf8.allSatisfy { $0 < 0x80 } }
    }
}
