import Foundation

/// What a stored message capability (table `manage_links`, only its hash) lets its holder do.
public enum MessageCapability: String, Sendable, Codable, CaseIterable {
    /// A manage link: opens the message's page without a password.
    case manage
    /// A recall address (`recall+…@RETRACT_RECALL_DOMAIN`): a reply to it revokes the message.
    case reply
}
