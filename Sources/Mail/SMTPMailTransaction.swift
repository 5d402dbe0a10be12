/// One mail as the SMTP client sends it: the envelope, the content, and what the content
/// needs from the server (8BITMIME, SMTPUTF8).
struct SMTPMailTransaction: Sendable, Hashable {
    /// The delivery id, for reports and error messages.
    let id: String
    /// The reverse path; empty for the null sender `<>`.
    let mailFrom: String
    /// The forward paths, in order.
    let recipients: [String]
    /// The message as handed to the transport when it is in memory; the encoder prepares it
    /// for DATA. Empty when the message is streamed.
    let content: [UInt8]
    /// The message's source when it is streamed (`MailContent.streamed`); the conversation
    /// reads it piece by piece. Nil for content in memory.
    let streamed: MailContent?
    /// The message's size in bytes, as `SIZE=` declares it.
    let size: Int64
    /// Whether any byte of the message may be outside ASCII (then `BODY=8BITMIME` is
    /// declared when offered). A streamed message is not read ahead to find out: it is
    /// declared 8-bit, which RFC 6152 allows for any content.
    let is8Bit: Bool
    /// Whether an address is outside ASCII, which only a server offering SMTPUTF8 may receive.
    let needsSMTPUTF8: Bool
    /// Whether the caller must be asked (`SMTPClientStateMachine.Action.askGate`) at the last
    /// moment before the server could accept the mail.
    let gated: Bool

    /// Prepares a transaction for content in memory; the flags are computed from the bytes
    /// and the envelope.
    init(id: String, envelope: MailEnvelope, content: [UInt8], gated: Bool = false) {
        self.init(id: id, envelope: envelope, body: .bytes(content), gated: gated)
    }

    /// Prepares a transaction for `body`, in memory or streamed.
    init(id: String, envelope: MailEnvelope, body: MailContent, gated: Bool = false) {
        self.gated = gated
        self.id = id
        self.mailFrom = envelope.mailFrom
        self.recipients = envelope.recipients
        switch body {
        case .bytes(let bytes):
            self.content = bytes
            self.streamed = nil
            self.is8Bit = bytes.contains { $0 >= 0x80 }
        case .streamed:
            self.content = []
            self.streamed = body
            self.is8Bit = true
        }
        self.size = body.size
        self.needsSMTPUTF8 = ([envelope.mailFrom] + envelope.recipients).contains { !$0.utf8.allSatisfy { $0 < 0x80 } }
    }

    /// The request that sends the content: with its final `.` line, or without it when
    /// `terminated` is false (the `.` follows once the gate opened).
    func contentRequest(terminated: Bool) -> SMTPRequest {
        if let streamed {
            return terminated ? .streamedContent(streamed) : .streamedContentBody(streamed)
        }
        return terminated ? .content(self.content) : .contentBody(self.content)
    }
}
