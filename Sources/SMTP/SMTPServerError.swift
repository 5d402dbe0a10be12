/// An error from configuring or running the SMTP server.
///
/// An "open enum": compare against the static values, never switch exhaustively. The
/// message is for people and takes no part in equality.
public struct SMTPServerError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case invalidNetwork = "invalid network"
        case invalidConfiguration = "invalid SMTP server configuration"
        case spoolFailed = "spool failed"
        case notListening = "not listening"
    }

    private let code: Code
    private let message: String?

    private init(_ code: Code, _ message: String? = nil) {
        self.code = code
        self.message = message
    }

    /// A CIDR network (`10.0.0.0/8`, `::1`) that does not parse.
    public static let invalidNetwork = SMTPServerError(.invalidNetwork)
    /// A configuration value out of range (a limit of zero, an unusable listen address).
    public static let invalidConfiguration = SMTPServerError(.invalidConfiguration)
    /// The message content could not be written to the spool directory.
    public static let spoolFailed = SMTPServerError(.spoolFailed)
    /// The server stopped (or failed) before it was listening.
    public static let notListening = SMTPServerError(.notListening)

    /// The same kind of error with a message naming the cause.
    func with(_ message: String) -> SMTPServerError { SMTPServerError(self.code, message) }

    static func invalidNetwork(_ text: String) -> SMTPServerError {
        invalidNetwork.with("'\(text.prefix(80))' is not an IPv4 or IPv6 address or CIDR network")
    }

    /// One line: the kind, then the cause when known.
    public var description: String {
        guard let message else { return self.code.rawValue }
        return "\(self.code.rawValue): \(message)"
    }

    /// Equal when of the same kind, whatever the message.
    public static func == (lhs: SMTPServerError, rhs: SMTPServerError) -> Bool { lhs.code == rhs.code }

    /// Hashes the kind only, like `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
