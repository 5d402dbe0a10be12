import Foundation
import Sodium
import Vault

extension RetractService {
    /// Failed sign-ins allowed per account inside `signInWindow`.
    public static let signInLimitPerAccount = 5
    /// Failed sign-ins allowed per client address inside `signInWindow`.
    public static let signInLimitPerClient = 20
    /// The window the sign-in limits count over: 15 minutes.
    public static let signInWindow: TimeInterval = 15 * 60

    /// The rate-limit scope of failed sign-ins per account.
    static let signInAccountScope = "signin-account"
    /// The rate-limit scope of failed sign-ins per client address.
    static let signInClientScope = "signin-client"

    /// The limiter over this vault's persisted failure events.
    public var rateLimiter: RateLimiter { RateLimiter(vault: vault, metrics: metrics) }

    /// Signs a sender in with their password and starts a web session.
    ///
    /// Refused with `tooManyAttempts` once the account has 5 failures, or the client address
    /// 20, in the last 15 minutes (counted in the vault so the limit survives a restart).
    /// The limits are checked, and the attempt counted as a failure, in one transaction
    /// before the password is hashed: a limited attempt costs no Argon2id and no place in
    /// `PasswordWork`'s line, and concurrent guesses cannot all pass the check before any is
    /// counted; a successful sign-in takes its count back. An unknown address costs the same
    /// Argon2id verification as a known one (against a dummy hash) and gives the same answer
    /// as a wrong password. When `PasswordWork`'s line is full the answer is
    /// `tooManyAttempts(retryAfter: 1)` and nothing is counted. A nil `client` (a request
    /// context without a peer, as in router tests) skips the per-client limit rather than
    /// sharing one bucket that anyone could fill for everybody.
    /// Counts a sign-in attempt (web or SMTP AUTH) against the per-account limit and, with a
    /// `client`, the per-client one, in one transaction before any hashing; the account key
    /// (the address, trimmed and lower-cased) and the counted attempt, or `tooManyAttempts`.
    func beginSignInAttempt(address: String, client: String?, at: Date) throws(SignInFailure) -> (
        subject: String, attempt: RateLimiter.Attempt
    ) {
        let accountSubject = address.trimmingCharacters(in: .whitespaces).lowercased()
        var limits = [
            RateLimiter.Limit(
                scope: Self.signInAccountScope, subject: accountSubject, limit: Self.signInLimitPerAccount,
                window: Self.signInWindow)
        ]
        if let client {
            limits.append(
                RateLimiter.Limit(
                    scope: Self.signInClientScope, subject: client, limit: Self.signInLimitPerClient,
                    window: Self.signInWindow))
        }
        let attempt: RateLimiter.Attempt
        do {
            attempt = try rateLimiter.begin(limits, now: at)
        } catch {
            logger.error("sign-in rate limit unreadable", metadata: ["error": "\(error)"])
            throw .invalidCredentials
        }
        if case .refused(let retryAfter) = attempt { throw .tooManyAttempts(retryAfter: retryAfter) }
        return (accountSubject, attempt)
    }

    /// The account `subject` when `password` is its web password, verified in
    /// `PasswordWork`'s line (an unknown account costs the same, against a dummy hash); nil
    /// for a wrong password or no account. When the line is full the attempt is withdrawn
    /// and the answer is `tooManyAttempts(retryAfter: 1)`.
    func verifiedPassword(
        _ password: String, of subject: String, attempt: RateLimiter.Attempt, client: String?
    ) async throws(SignInFailure) -> SenderRecord? {
        let record = try? vault.sender(address: subject)
        let stored = record?.passwordHash
        let verified = await passwordWork.run {
            PasswordHash.verify(password, against: stored ?? Self.dummyPasswordHash) && stored != nil
        }
        guard let verified else {
            try? rateLimiter.withdraw(attempt)
            logger.notice("sign-in refused: too many at once", metadata: ["client": "\(client ?? "unknown")"])
            throw .tooManyAttempts(retryAfter: 1)
        }
        return verified ? record : nil
    }

    public func signIn(address: String, password: String, client: String?) async throws(SignInFailure) -> WebSignIn {
        let at = now()
        let limiter = rateLimiter
        let (accountSubject, attempt) = try beginSignInAttempt(address: address, client: client, at: at)
        guard let record = try await verifiedPassword(password, of: accountSubject, attempt: attempt, client: client)
        else {
            logger.notice("sign-in refused", metadata: ["client": "\(client ?? "unknown")"])
            throw .invalidCredentials
        }

        let secret = Random.bytes(32)
        let cookieValue = Base64URL.encode(secret)
        do {
            try vault.insertWebSession(
                WebSessionRecord(idHash: Data(Self.sessionIDHash(secret)), sender: record.address, at: at))
            try limiter.withdraw(attempt)
            try await limiter.reset(scope: Self.signInAccountScope, subject: accountSubject)
            _ = try vault.deleteWebSessions(lastSeenBefore: at.addingTimeInterval(-configuration.sessionIdleTimeout))
        } catch {
            logger.error("web session not stored", metadata: ["error": "\(error)"])
            throw .invalidCredentials
        }
        logger.info("signed in", metadata: ["sender": "\(record.address)"])
        return WebSignIn(account: SenderAccount(record), cookieValue: cookieValue, csrfToken: Self.csrfToken(secret))
    }

    /// How stale a session's recorded activity may get before a request writes it again.
    static let sessionTouchInterval: TimeInterval = 60

    /// The live session a cookie names, or nil when the cookie is unknown, malformed, signed
    /// out or idle for longer than `configuration.sessionIdleTimeout`.
    ///
    /// Each call counts as activity: the idle timeout starts again. The activity is written
    /// to the vault at most once per `sessionTouchInterval`, not on every page (a database
    /// write per request otherwise), so a session may end up to that much before
    /// `sessionIdleTimeout` after its last request.
    public func webSession(cookieValue: String) async -> WebSessionState? {
        guard let secret = Self.sessionSecret(cookieValue) else { return nil }
        let idHash = Data(Self.sessionIDHash(secret))
        let at = now()
        do {
            guard let (session, sender) = try vault.webSession(idHash: idHash) else { return nil }
            guard at.timeIntervalSince(session.lastSeenAt) <= configuration.sessionIdleTimeout else {
                try vault.deleteWebSession(idHash: idHash)
                return nil
            }
            if at.timeIntervalSince(session.lastSeenAt) >= Self.sessionTouchInterval {
                try vault.touchWebSession(idHash: idHash, at: at)
            }
            return WebSessionState(
                account: SenderAccount(sender), csrfToken: Self.csrfToken(secret), locale: session.locale,
                messageScope: session.messageScope)
        } catch {
            logger.error("web session lookup failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Stores the language a session chose (nil goes back to the browser's choice).
    public func setWebSessionLocale(cookieValue: String, locale: String?) async {
        guard let secret = Self.sessionSecret(cookieValue) else { return }
        do {
            try vault.setWebSessionLocale(idHash: Data(Self.sessionIDHash(secret)), locale: locale)
        } catch {
            logger.error("web session locale not stored", metadata: ["error": "\(error)"])
        }
    }

    /// Ends the session a cookie names; unknown cookies are ignored.
    public func signOut(cookieValue: String) async {
        guard let secret = Self.sessionSecret(cookieValue) else { return }
        do {
            try vault.deleteWebSession(idHash: Data(Self.sessionIDHash(secret)))
        } catch {
            logger.error("sign-out failed", metadata: ["error": "\(error)"])
        }
    }

    /// The 32 bytes of a well-formed cookie value.
    static func sessionSecret(_ cookieValue: String) -> [UInt8]? {
        guard cookieValue.utf8.count == Base64URL.encodedLength(byteCount: 32),
            let bytes = try? Base64URL.decode(cookieValue), bytes.count == 32
        else { return nil }
        return bytes
    }

    /// What the vault stores of a session: BLAKE2b-256 over a fixed context and the secret.
    static func sessionIDHash(_ secret: [UInt8]) -> [UInt8] {
        GenericHash.hash(Array("retract/web-session/v1".utf8), secret)
    }

    /// The session's CSRF token: BLAKE2b keyed by the cookie secret over a fixed context,
    /// so it is stable for the session, differs between sessions, and needs no storage.
    static func csrfToken(_ secret: [UInt8]) -> String {
        var hash = GenericHash(key: SecureBytes(copying: secret))
        hash.update(Array("retract/csrf/v1".utf8))
        return Base64URL.encode(hash.finalize())
    }

    /// An Argon2id hash of a random password nobody knows, verified against for unknown
    /// addresses so they take as long as known ones.
    static let dummyPasswordHash: String = (try? PasswordHash.hash(Base64URL.encode(Random.bytes(32)))) ?? ""
}
