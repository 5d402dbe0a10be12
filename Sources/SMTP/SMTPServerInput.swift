import NIOCore

/// What the SMTP server's framing hands the conversation: command lines, message content
/// line by line, and the events only the framing sees.
enum SMTPServerInput: Hashable, Sendable {
    /// A command line (or AUTH response), its line ending removed.
    case line([UInt8])
    /// A command line longer than the limit; its bytes were discarded up to its end.
    case lineTooLong
    /// One line of message content (or a piece of a very long one), dot-stuffing removed,
    /// its line ending kept as received.
    case content(ByteBuffer)
    /// The final `.` line of the content.
    case contentEnd
    /// The client sent nothing for the idle timeout.
    case idleTimeout
    /// The server is shutting down; sent between commands only.
    case shutdown
}

/// The user outbound event that asks a session to end after its current command.
struct SMTPServerShutdownRequest: Sendable {}
