/// A recipient's link: `<public_url>/m/<token>#<link_key>`, both base64url without padding.
///
/// The key sits in the fragment, which browsers never send to the server on a GET.
public struct Link: Sendable, CustomStringConvertible {
    /// The path segment, identifying the grant.
    public let token: GrantToken
    /// The fragment, the recipient's part of the key split.
    public let linkKey: LinkKey

    /// Pairs a token with its link key.
    public init(token: GrantToken, linkKey: LinkKey) {
        self.token = token
        self.linkKey = linkKey
    }

    /// Parses `<anything>/m/<token22>#<key43>`.
    ///
    /// Throws `malformedLink` when there is no `#`, no `/m/<token>` right before it, or a
    /// query; `nonCanonicalEncoding` when the token or key is not exactly its canonical
    /// base64url form. Does not trim whitespace: callers reading user input may trim first.
    public static func parse(_ url: String) throws(SealError) -> Link {
        let bytes = Array(url.utf8)
        guard let hashMark = bytes.firstIndex(of: UInt8(ascii: "#")) else { throw .malformedLink }
        let beforeFragment = bytes[..<hashMark]
        guard let slash = beforeFragment.lastIndex(of: UInt8(ascii: "/")) else { throw .malformedLink }
        let marker = Array("/m".utf8)
        let prefix = beforeFragment[..<slash]
        guard prefix.count >= marker.count, Array(prefix.suffix(marker.count)) == marker else { throw .malformedLink }
        let tokenText = bytes[(slash + 1)..<hashMark]
        guard !tokenText.contains(UInt8(ascii: "?")) else { throw .malformedLink }
        let token = try GrantToken(base64url: String(decoding: tokenText, as: UTF8.self))
        let linkKey = try LinkKey(base64url: String(decoding: bytes[(hashMark + 1)...], as: UTF8.self))
        return Link(token: token, linkKey: linkKey)
    }

    /// The link under `publicBase` (trailing slashes ignored):
    /// `"<publicBase>/m/<token>#<key>"`. As secret as the link key.
    public func url(publicBase: String) -> String {
        var base = Substring(publicBase)
        while base.hasSuffix("/") {
            base = base.dropLast()
        }
        return "\(base)/m/\(token.base64url)#\(linkKey.base64url)"
    }

    /// Redacted: a link opens a message.
    public var description: String { "Link(redacted)" }
}
