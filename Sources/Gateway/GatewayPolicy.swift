import Foundation
import RetractCore

/// Decides, per recipient of a message that reaches the SMTP gateway, whether it is sealed
/// into the vault (a personal link) or passed on unchanged; plain values, no I/O.
///
/// `external` seals for recipients outside `internalDomains` and passes the original to
/// those inside (where native recall works); `all` seals for everyone; `tagged` seals a
/// message only when its subject carries `tag`. The tag also forces sealing under
/// `external`, and is removed from the subject before anything leaves (`cleanedSubject`).
public struct GatewayPolicy: Sendable, Equatable {
    /// What happens to one recipient's copy.
    public enum Action: String, Sendable, Equatable, Codable {
        /// Sealed into the vault; the recipient gets a notification with a personal link.
        case seal
        /// The original, unchanged but for a `Received:` line, over the outbound transport.
        case passThrough = "pass_through"
    }

    /// One recipient's decision and why it was taken.
    public struct Decision: Sendable, Equatable, Codable {
        /// The envelope recipient.
        public var recipient: String
        /// What happens to its copy.
        public var action: Action
        /// Why, in a few words an operator understands (`retract gateway check` prints it).
        public var reason: String
    }

    /// The organisation's own domains, lower case; a subdomain does not count as inside.
    public var internalDomains: [String]
    /// Which recipients are sealed.
    public var mode: GatewaySealMode
    /// The subject tag that asks for sealing, compared without case.
    public var tag: String

    /// A policy over the given domains (lower-cased here).
    public init(internalDomains: [String], mode: GatewaySealMode, tag: String = "[secure]") {
        self.internalDomains = internalDomains.map { $0.lowercased() }
        self.mode = mode
        self.tag = tag
    }

    /// The policy a configuration names; `senderDomains` stands in for
    /// `RETRACT_INTERNAL_DOMAINS` when that is unset.
    public init(configuration: RetractConfiguration, senderDomains: [String]) {
        let domains =
            configuration.gatewayInternalDomains.isEmpty ? senderDomains : configuration.gatewayInternalDomains
        self.init(internalDomains: domains, mode: configuration.gatewaySealMode, tag: configuration.gatewaySealTag)
    }

    /// Whether `address` (`local@domain`) is in one of the internal domains.
    public func isInternal(_ address: String) -> Bool {
        guard let at = address.lastIndex(of: "@") else { return false }
        let domain = address[address.index(after: at)...].lowercased()
        return internalDomains.contains(domain)
    }

    /// Whether the subject carries the seal tag.
    public func isTagged(_ subject: String) -> Bool {
        !tag.isEmpty && subject.range(of: tag, options: .caseInsensitive) != nil
    }

    /// The subject with every occurrence of the tag removed and the blanks it leaves
    /// collapsed; unchanged when it carries no tag.
    public func cleanedSubject(_ subject: String) -> String {
        guard isTagged(subject) else { return subject }
        var text = subject
        while let range = text.range(of: tag, options: .caseInsensitive) { text.removeSubrange(range) }
        return text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// The decision for each recipient, in order.
    public func decide(subject: String, recipients: [String]) -> [Decision] {
        let tagged = isTagged(subject)
        return recipients.map { recipient in
            let inside = isInternal(recipient)
            let action: Action
            let reason: String
            switch mode {
            case .all:
                (action, reason) = (.seal, "RETRACT_SEAL=all seals every recipient")
            case .tagged where tagged:
                (action, reason) = (.seal, "the subject carries \(tag)")
            case .tagged:
                (action, reason) = (.passThrough, "RETRACT_SEAL=tagged and the subject carries no \(tag)")
            case .external where tagged:
                (action, reason) = (.seal, "the subject carries \(tag)")
            case .external where inside:
                (action, reason) = (.passThrough, "\(domain(of: recipient)) is an internal domain")
            case .external:
                (action, reason) = (.seal, "\(domain(of: recipient)) is outside the internal domains")
            }
            return Decision(recipient: recipient, action: action, reason: reason)
        }
    }

    private func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address.debugDescription }
        return String(address[address.index(after: at)...]).lowercased()
    }
}
