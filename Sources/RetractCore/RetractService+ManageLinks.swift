import Foundation
import Sodium
import Vault

extension RetractService {
    /// Starts a web session limited to one message from a manage link's capability (the
    /// fragment of the link in a gateway receipt): the sender sees that message's page and
    /// can revoke or correct it, and nothing else, without a password.
    ///
    /// Refused with `invalidCredentials` when the capability is malformed or unknown, the
    /// message has expired, or the sender's account was removed: one answer for all, so it
    /// tells nothing about which messages exist. The capability stays valid while the
    /// message lives (opening the page does not use it up); 256 random bits need no attempt
    /// limit, but each refusal is logged (without the capability).
    public func beginManageSession(capability: String, client: String?) async throws(SignInFailure) -> WebSignIn {
        let at = now()
        guard let hash = ManageLink.hash(capability: capability) else {
            logger.notice("manage link refused: malformed", metadata: ["client": "\(client ?? "unknown")"])
            throw .invalidCredentials
        }
        let found: (messageID: String, sender: SenderRecord)?
        do {
            found = try vault.manageLink(hash: hash, now: at)
        } catch {
            logger.error("manage link lookup failed", metadata: ["error": "\(error)"])
            throw .invalidCredentials
        }
        guard let found else {
            logger.notice("manage link refused", metadata: ["client": "\(client ?? "unknown")"])
            throw .invalidCredentials
        }
        var secret = Random.bytes(32)
        defer { secret.withUnsafeMutableBytes { secureZero($0) } }
        do {
            try vault.insertWebSession(
                WebSessionRecord(
                    idHash: Data(Self.sessionIDHash(secret)), sender: found.sender.address, at: at,
                    messageScope: found.messageID))
        } catch {
            logger.error("web session not stored", metadata: ["error": "\(error)"])
            throw .invalidCredentials
        }
        logger.info("manage link opened", metadata: ["message": "\(found.messageID)"])
        return WebSignIn(
            account: SenderAccount(found.sender), cookieValue: Base64URL.encode(secret),
            csrfToken: Self.csrfToken(secret), messageScope: found.messageID)
    }
}
