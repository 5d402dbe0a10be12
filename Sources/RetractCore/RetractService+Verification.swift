import Foundation
import Mail
import Seal
import Sodium
import Vault

/// Recipient verification (messages sent with `verify`) and the per-client limit on failed
/// opens.
///
/// A verified message opens only with the link *and* a 6-digit code that Retract mails to
/// the grant's recipient when the reader asks for it, so a forwarded link is useless without
/// that mailbox. The vault keeps only a keyed BLAKE2b hash of the code, keyed by the link
/// token, which the vault never stores (see `docs/crypto.md`).
extension RetractService {
    /// How long a mailed code works.
    public static let verificationCodeLifetime: TimeInterval = 10 * 60
    /// Wrong codes that lock a grant.
    public static let verificationFailureLimit = 5
    /// How long a grant stays locked after too many wrong codes.
    public static let verificationLockDuration: TimeInterval = 15 * 60
    /// How long a correct code is remembered for the grant, so that attachment downloads
    /// and a reload work without a new code (the trade-off is in `docs/threat-model.md`).
    public static let verificationMemory: TimeInterval = 30 * 60
    /// Code mails allowed per grant within `verificationMailWindow`.
    public static let verificationMailLimit = 3
    /// The window over which code mails are counted.
    public static let verificationMailWindow: TimeInterval = 60 * 60
    /// Failed opens (wrong keys, unknown links, wrong codes) allowed per client address
    /// within `openClientWindow` before that client gets 429 on every link.
    public static let openClientFailureLimit = 30
    /// The window over which failed opens are counted per client.
    public static let openClientWindow: TimeInterval = 15 * 60

    /// What the interstitial page says for a link that needs a code; nil when the link opens
    /// without one, or does not exist. Never counts as an open and mails nothing.
    public func verificationPrompt(token: GrantToken) async -> VerificationPrompt? {
        await verificationPrompt(of: try? await vault.grant(tokenHash: token.hash.bytes))
    }

    /// The interstitial state and, for an openable link of a verified message, its prompt,
    /// from one grant lookup (the page's `GET` is a hot path; only verified messages read
    /// their verification state too).
    public func readerState(token: GrantToken) async -> (state: LinkState, prompt: VerificationPrompt?) {
        let lookup = try? await vault.grant(tokenHash: token.hash.bytes)
        let state = linkState(of: lookup)
        guard case .openable = state else { return (state, nil) }
        return (state, await verificationPrompt(of: lookup))
    }

    private func verificationPrompt(of lookup: GrantLookup?) async -> VerificationPrompt? {
        guard let lookup, lookup.message.verify, let grantID = lookup.grant.id else { return nil }
        let state = try? await vault.verificationState(grantID: grantID)
        let verified = state?.verifiedUntil.map { $0 > now() } ?? false
        return VerificationPrompt(maskedRecipient: Self.maskedAddress(lookup.grant.recipient), verified: verified)
    }

    /// Mails a fresh 6-digit code to the grant's recipient through the outbox, replacing any
    /// earlier code; returns nil when the message needs no code.
    ///
    /// Needs the whole link (token and key), so somebody who only saw a token, in a proxy
    /// log say, cannot make Retract mail the recipient. At most `verificationMailLimit` code
    /// mails per grant per `verificationMailWindow`, and none while the grant is locked.
    public func requestVerificationCode(token: GrantToken, linkKey: LinkKey, client: String? = nil)
        async throws(OpenFailure) -> VerificationCodeSent?
    {
        let (lookup, _) = try await unlock(
            token: token, linkKey: linkKey, forAttachment: false, client: client, checkingCode: false)
        guard lookup.message.verify, let grantID = lookup.grant.id else { return nil }
        let at = now()
        let expiresAt = at.addingTimeInterval(Self.verificationCodeLifetime)
        let code = Self.makeVerificationCode()
        let mail: OutboxMailRecord
        do {
            let serviceAddress = try mailAddress(configuration.serviceAddress, role: "service address (RETRACT_FROM)")
            let recipient = try mailAddress(lookup.grant.recipient, role: "recipient")
            let locale = (try? MailLocale(parsing: lookup.message.locale)) ?? .en
            let message = try wrapMailError {
                try templates.verification(
                    VerificationDetails(
                        serviceAddress: serviceAddress, sender: try senderAddress(of: lookup.message),
                        recipient: recipient, code: code, expiresAt: expiresAt,
                        validMinutes: Int(Self.verificationCodeLifetime / 60), locale: locale))
            }
            mail = try queuedMail(
                message, kind: .verification, messageID: lookup.message.id, grantID: grantID,
                recipient: recipient.address, notBefore: at, createdAt: at)
        } catch {
            logger.error("could not write a verification mail", metadata: ["message": "\(lookup.message.id)"])
            throw .damaged
        }
        let issue: VerificationIssue
        do {
            issue = try await vault.issueVerificationCode(
                grantID: grantID, codeHash: Self.verificationCodeHash(code, token: token), at: at,
                expiresAt: expiresAt, mail: mail, maxMails: Self.verificationMailLimit,
                window: Self.verificationMailWindow)
        } catch {
            logger.error("could not store a verification code", metadata: ["message": "\(lookup.message.id)"])
            throw .damaged
        }
        switch issue {
        case .issued:
            logger.info("verification code queued", metadata: ["message": "\(lookup.message.id)"])
            return VerificationCodeSent(
                maskedRecipient: Self.maskedAddress(lookup.grant.recipient), expiresAt: expiresAt)
        case .locked(let until):
            throw .tooManyAttempts(retryAfter: Self.seconds(from: at, to: until))
        case .tooManyCodes(let retryAt):
            throw .tooManyAttempts(retryAfter: Self.seconds(from: at, to: retryAt))
        }
    }

    /// Checks the code of a `verify` message once the key has opened it; throws when the
    /// reader must (still) give a code.
    func checkVerification(_ lookup: GrantLookup, token: GrantToken, code: String?, client: String?, at: Date)
        async throws(OpenFailure)
    {
        guard let grantID = lookup.grant.id else { throw .damaged }
        let offered = code.map { $0.filter { !$0.isWhitespace && $0 != "-" } } ?? ""
        // A malformed code is a wrong code: hash something that can never match.
        let candidate: [UInt8]? =
            offered.isEmpty
            ? nil
            : Self.isWellFormedCode(offered) ? Self.verificationCodeHash(offered, token: token) : Random.bytes(32)
        let check: VerificationCheck
        do {
            check = try await vault.checkVerificationCode(
                grantID: grantID, candidateHash: candidate, at: at, maxFailures: Self.verificationFailureLimit,
                lockFor: Self.verificationLockDuration, rememberFor: Self.verificationMemory)
        } catch {
            logger.error("could not check a verification code", metadata: ["message": "\(lookup.message.id)"])
            throw .damaged
        }
        switch check {
        case .verified:
            logger.info("verification code accepted", metadata: ["message": "\(lookup.message.id)"])
        case .remembered:
            break
        case .codeRequired:
            throw .codeRequired(maskedRecipient: Self.maskedAddress(lookup.grant.recipient))
        case .invalid(let remaining):
            await recordOpenClientFailure(client, at: at)
            await log(lookup, token.hash, at, .invalidCode)
            throw .invalidCode(remaining: remaining)
        case .locked(let until):
            if candidate != nil { await recordOpenClientFailure(client, at: at) }
            await log(lookup, token.hash, at, .tooManyAttempts)
            throw .tooManyAttempts(retryAfter: Self.seconds(from: at, to: until))
        }
    }

    // MARK: Failed opens per client

    /// Counts one failed open against a client address (kept in the vault, so it survives restarts).
    func recordOpenClientFailure(_ client: String?, at: Date) async {
        guard let client, !client.isEmpty else { return }
        do {
            try await rateLimiter.recordFailure(scope: VaultDatabase.openClientScope, subject: client, at: at)
        } catch {
            logger.error("could not record a failed open for the client limit")
        }
    }

    // MARK: Codes

    /// Six decimal digits from libsodium's `randombytes_uniform` (no modulo bias).
    static func makeVerificationCode() -> String {
        let value = Random.uniform(1_000_000)
        let digits = String(value)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// `BLAKE2b-256(key = token, "retract/verify/v1" ‖ code)`: what the vault stores.
    ///
    /// Keyed by the link token, which the vault never stores, so a stolen database alone
    /// cannot brute-force the million possible codes back out of the hash.
    static func verificationCodeHash(_ code: String, token: GrantToken) -> [UInt8] {
        let key = SecureBytes(copying: token.bytes)
        var hash = GenericHash(key: key)
        hash.update(Array("retract/verify/v1".utf8))
        hash.update(Array(code.utf8))
        return hash.finalize()
    }

    static func isWellFormedCode(_ code: String) -> Bool {
        code.utf8.count == 6 && code.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// `bob@partner.test` → `b***@partner.test`: the first character of the local part and
    /// the domain, so the reader recognises the mailbox; the length is not revealed.
    public static func maskedAddress(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "***" }
        let first = address[..<at].first.map(String.init) ?? ""
        return "\(first)***@\(address[address.index(after: at)...])"
    }

    static func seconds(from start: Date, to end: Date) -> Int {
        max(1, Int(end.timeIntervalSince(start).rounded(.up)))
    }
}
