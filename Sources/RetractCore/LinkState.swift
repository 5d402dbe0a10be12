import Foundation

/// What the interstitial page may say about a link before any key is given.
public enum LinkState: Sendable, Equatable {
    /// The link exists and may open.
    case openable(locale: String)
    /// No such link.
    case notFound
    /// Withdrawn by the sender.
    case revoked(at: Date, reason: String?, replaced: Bool, locale: String)
    /// Past its lifetime, or its views are used up.
    case expired(at: Date?, locale: String)
}
