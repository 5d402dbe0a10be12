import NIOCore

/// One thing the client writes to an SMTP server; each request is answered by exactly one reply.
///
/// Arguments are checked by the state machine before a request is made and again by the
/// encoder, which refuses CR, LF and NUL in a command line (no command injection).
enum SMTPRequest: Sendable, Hashable {
    /// `EHLO <name>`.
    case ehlo(String)
    /// `HELO <name>`, the fallback for servers that refuse EHLO.
    case helo(String)
    /// `STARTTLS` (RFC 3207).
    case startTLS
    /// `AUTH PLAIN <base64>` with the initial response (RFC 4954, RFC 4616). Secret.
    case authPlain(initialResponse: String)
    /// `AUTH LOGIN`; the server then asks for the user name and the password.
    case authLogin
    /// A base64 line answering a 334 challenge. Secret.
    case authResponse(String)
    /// `MAIL FROM:<path> [parameters]`.
    case mailFrom(String, parameters: [String])
    /// `RCPT TO:<path>`.
    case recipient(String)
    /// `DATA`.
    case data
    /// The message itself: the encoder normalises line endings to CRLF, dot-stuffs it and
    /// adds the final `.` line.
    case content([UInt8])
    /// The message without its final `.` line, prepared like `content`; no reply is owed
    /// until `endOfContent` follows.
    case contentBody([UInt8])
    /// The final `.` line after `contentBody`: only now may the server accept the message.
    case endOfContent
    /// A message read from its source (`MailContent.streamed`), prepared like `content` and
    /// ended by the `.` line. The conversation writes it piece by piece as
    /// `preparedContent` and then `endOfContent`; it never reaches the encoder.
    case streamedContent(MailContent)
    /// A streamed message without its final `.` line, like `contentBody`.
    case streamedContentBody(MailContent)
    /// A piece of message content already prepared for DATA (CRLF, dot-stuffed); no reply
    /// is owed for it.
    case preparedContent(ByteBuffer)
    /// `RSET`.
    case reset
    /// `QUIT`.
    case quit

    /// The command line without CRLF, or nil for the message content.
    var commandLine: String? {
        switch self {
        case .ehlo(let name): "EHLO \(name)"
        case .helo(let name): "HELO \(name)"
        case .startTLS: "STARTTLS"
        case .authPlain(let response): "AUTH PLAIN \(response)"
        case .authLogin: "AUTH LOGIN"
        case .authResponse(let response): response
        case .mailFrom(let path, let parameters): (["MAIL FROM:<\(path)>"] + parameters).joined(separator: " ")
        case .recipient(let path): "RCPT TO:<\(path)>"
        case .data: "DATA"
        case .content, .contentBody, .endOfContent, .streamedContent, .streamedContentBody, .preparedContent: nil
        case .reset: "RSET"
        case .quit: "QUIT"
        }
    }

    /// What the request is, for error messages; never contains a secret or the message.
    var summary: String {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .startTLS: "STARTTLS"
        case .authPlain: "AUTH PLAIN"
        case .authLogin: "AUTH LOGIN"
        case .authResponse: "an AUTH response"
        case .mailFrom(let path, _): "MAIL FROM:<\(path)>"
        case .recipient(let path): "RCPT TO:<\(path)>"
        case .data: "DATA"
        case .content, .endOfContent, .streamedContent: "the end of the message data"
        case .contentBody, .streamedContentBody, .preparedContent: "the message data"
        case .reset: "RSET"
        case .quit: "QUIT"
        }
    }

    /// Whether the reply to this request may take the long DATA-end timeout.
    var isMessageContent: Bool {
        switch self {
        case .content, .endOfContent, .streamedContent: true
        default: false
        }
    }

    /// Whether the server answers this request; only the content without its `.` line
    /// goes unanswered.
    var expectsReply: Bool {
        switch self {
        case .contentBody, .streamedContentBody, .preparedContent: false
        default: true
        }
    }
}

extension SMTPRequest: CustomStringConvertible {
    /// The summary: safe to log.
    var description: String { self.summary }
}
