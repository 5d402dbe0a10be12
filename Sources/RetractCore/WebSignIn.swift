/// A successful web sign-in: the account, the session cookie to set and its CSRF token.
///
/// `cookieValue` is the only copy of the session secret (the vault keeps its hash): the
/// server puts it in an `HttpOnly`, `SameSite=Strict` cookie and forgets it.
public struct WebSignIn: Sendable {
    /// Who signed in.
    public var account: SenderAccount
    /// The session cookie's value (43 base64url characters).
    public var cookieValue: String
    /// The token every form of this session must carry.
    public var csrfToken: String
    /// The one message the session may see and revoke, for a session begun with a manage
    /// link; nil for a password sign-in.
    public var messageScope: String?

    /// A sign-in result.
    public init(account: SenderAccount, cookieValue: String, csrfToken: String, messageScope: String? = nil) {
        self.messageScope = messageScope
        self.account = account
        self.cookieValue = cookieValue
        self.csrfToken = csrfToken
    }
}
