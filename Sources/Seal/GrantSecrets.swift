/// The three fresh secrets of a new grant: token, link key and share.
public struct GrantSecrets: Sendable {
    /// The link's path segment.
    public let token: GrantToken
    /// The link's fragment.
    public let linkKey: LinkKey
    /// The vault's share, to be sealed under the master key.
    public let share: ShareKey

    /// Bundles existing secrets.
    public init(token: GrantToken, linkKey: LinkKey, share: ShareKey) {
        self.token = token
        self.linkKey = linkKey
        self.share = share
    }

    /// Fresh random secrets for one recipient.
    public static func generate() -> GrantSecrets {
        GrantSecrets(token: .random(), linkKey: .generate(), share: .generate())
    }

    /// The recipient's link (token and link key).
    public var link: Link { Link(token: token, linkKey: linkKey) }
}
