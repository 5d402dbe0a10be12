import Foundation

/// A failure of a Retract use case, phrased as one line that says what to do.
///
/// The CLI prints `description` after `retract: error:`; the server maps the code to a
/// status and never shows more than this line.
public struct RetractError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What kind of failure it is, for callers that branch on it.
    public enum Code: String, Sendable {
        case invalidInput
        case invalidAddress
        case noRecipients
        case headerInjection
        case attachmentUnreadable
        case blockedByFindings
        case messageNotFound
        case storage
        case keys
        case mail
    }

    /// The kind of failure.
    public let code: Code
    /// The one-line explanation.
    public let description: String

    /// A failure of the given kind.
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// An option or value the user gave is not acceptable.
    public static func invalidInput(_ message: String) -> RetractError { .init(.invalidInput, message) }

    /// No message has this id.
    public static func messageNotFound(_ id: String) -> RetractError {
        .init(.messageNotFound, "no message with id \(id); `retract list` shows the ids")
    }

    public static func == (lhs: RetractError, rhs: RetractError) -> Bool {
        lhs.code == rhs.code && lhs.description == rhs.description
    }
}
