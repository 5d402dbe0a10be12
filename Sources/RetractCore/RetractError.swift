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
        case senderExists
        case senderNotFound
        case weakPassword
        case tooLateToCancel
        case notARecipient
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

    /// A sender account with this address already exists.
    public static func senderExists(_ address: String) -> RetractError {
        .init(
            .senderExists,
            "a sender \(address) already exists; `retract senders token \(address)` issues a new token")
    }

    /// No sender account has this address.
    public static func senderNotFound(_ address: String) -> RetractError {
        .init(.senderNotFound, "no sender \(address); `retract senders list` shows the senders")
    }

    /// The password is too short (or absurdly long) to be accepted.
    public static func weakPassword(minimum: Int, maximum: Int) -> RetractError {
        .init(.weakPassword, "the password must be \(minimum) to \(maximum) characters long; choose a longer one")
    }

    /// A revocation names an address the message was not sent to.
    public static func notARecipient(_ address: String, messageID: String, recipients: [String]) -> RetractError {
        .init(
            .notARecipient,
            "\(address) is not a recipient of message \(messageID); its recipients are \(recipients.joined(separator: ", "))")
    }

    /// A notification of the message has already left (or is leaving) the outbox.
    public static func tooLateToCancel(_ id: String) -> RetractError {
        .init(
            .tooLateToCancel,
            "message \(id) is no longer held by the send delay: at least one notification was already sent; revoke it instead")
    }

    public static func == (lhs: RetractError, rhs: RetractError) -> Bool {
        lhs.code == rhs.code && lhs.description == rhs.description
    }
}
