import Sodium

/// A live web session, as found from its cookie: who it is and what its forms must carry.
public struct WebSessionState: Sendable {
    /// The signed-in sender.
    public var account: SenderAccount
    /// The CSRF token of this session (derived from the cookie, stable for its lifetime).
    public var csrfToken: String
    /// The language the sender chose, if any.
    public var locale: String?
    /// The one message a session begun with a manage link may see and revoke; nil for a
    /// session begun with the password.
    public var messageScope: String?

    /// A session state.
    public init(account: SenderAccount, csrfToken: String, locale: String?, messageScope: String? = nil) {
        self.messageScope = messageScope
        self.account = account
        self.csrfToken = csrfToken
        self.locale = locale
    }

    /// Whether a form's CSRF token is this session's, compared in constant time.
    public func accepts(csrfToken candidate: String) -> Bool {
        let expected = Array(csrfToken.utf8)
        let given = Array(candidate.utf8)
        guard expected.count == given.count else { return false }
        return constantTimeEquals(expected, given)
    }
}
