import Foundation
import Mail
import Sodium
import Vault

extension RetractService {
    /// What every API token starts with, so a leaked one is recognisable (secret scanners).
    public static let senderTokenPrefix = "rt_"
    /// Random bytes in an API token.
    static let senderTokenBytes = 32
    /// Shortest web password accepted.
    public static let minimumPasswordLength = 10
    /// Longest web password accepted (bounds the work one request can ask for).
    public static let maximumPasswordLength = 1024

    /// Creates a sender account and returns its API token, which exists nowhere else
    /// afterwards: the vault keeps only its BLAKE2b hash, so it is shown to the operator once.
    ///
    /// `address` may be `addr` or `Name <addr>`; a name given separately wins.
    public func addSender(address: String, name: String?) throws -> (account: SenderAccount, token: String) {
        let mailbox = try mailAddress(address, role: "sender address")
        let trimmedName = name?.trimmingCharacters(in: .whitespaces)
        if let trimmedName, trimmedName.contains(where: { $0.isNewline || $0 == "\0" }) {
            throw RetractError(.headerInjection, "the sender name contains a line break; a name must be one line")
        }
        let displayName = (trimmedName?.isEmpty == false ? trimmedName : nil) ?? mailbox.displayName
        let (token, hash) = Self.makeSenderToken()
        let record = SenderRecord(address: mailbox.address, name: displayName, tokenHash: hash, createdAt: now())
        guard try vault.insertSender(record) else { throw RetractError.senderExists(mailbox.address) }
        logger.info("sender added", metadata: ["sender": "\(mailbox.address)"])
        return (SenderAccount(record), token)
    }

    /// Sets (or replaces) a sender's web password, stored as an Argon2id string, and signs
    /// out every web session of that sender.
    public func setSenderPassword(address: String, password: String) throws {
        let length = password.count
        guard length >= Self.minimumPasswordLength, length <= Self.maximumPasswordLength else {
            throw RetractError.weakPassword(minimum: Self.minimumPasswordLength, maximum: Self.maximumPasswordLength)
        }
        let hash: String
        do {
            hash = try PasswordHash.hash(password)
        } catch {
            throw RetractError(.storage, "cannot hash the password (\(error)); is there 64 MiB of memory free?")
        }
        guard try vault.setSenderPassword(address: address, passwordHash: hash, at: now()) else {
            throw RetractError.senderNotFound(address)
        }
        logger.info("sender password set", metadata: ["sender": "\(address)"])
    }

    /// Every sender account, oldest first.
    public func senderAccounts() throws -> [SenderAccount] {
        try vault.senders().map(SenderAccount.init)
    }

    /// Deletes a sender account, its token and its web sessions; its messages stay in the
    /// vault (the CLI can still list and revoke them).
    public func removeSender(address: String) throws {
        guard try vault.deleteSender(address: address) else { throw RetractError.senderNotFound(address) }
        logger.info("sender removed", metadata: ["sender": "\(address)"])
    }

    /// Issues a new API token for a sender; the old one stops working at once.
    public func rotateSenderToken(address: String) throws -> String {
        let (token, hash) = Self.makeSenderToken()
        guard try vault.replaceSenderToken(address: address, tokenHash: hash, at: now()) else {
            throw RetractError.senderNotFound(address)
        }
        logger.info("sender token replaced", metadata: ["sender": "\(address)"])
        return token
    }

    /// The account an API bearer token belongs to, or nil for a missing, malformed, unknown
    /// or replaced token.
    ///
    /// The token is hashed and looked up by its hash; the stored hash is then compared with
    /// the computed one in constant time.
    public func sender(bearerToken: String) async -> SenderAccount? {
        guard let hash = Self.senderTokenHash(bearerToken) else { return nil }
        do {
            guard let record = try vault.sender(tokenHash: Data(hash)),
                constantTimeEquals([UInt8](record.tokenHash), hash)
            else { return nil }
            return SenderAccount(record)
        } catch {
            logger.error("sender lookup failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Creates the operator's first sender on a vault that has no sender and no message yet,
    /// with an API token and a generated password; nil (and nothing changed) otherwise.
    ///
    /// `retract init` prints what this returns, once: the second run finds a sender and
    /// returns nil.
    public func createFirstSender(address: String) throws -> (account: SenderAccount, token: String, password: String)?
    {
        guard try vault.isEmptyOfSendersAndMessages() else { return nil }
        let (account, token) = try addSender(address: address, name: nil)
        let password = Self.generatePassword()
        try setSenderPassword(address: account.address, password: password)
        return (
            SenderAccount(
                address: account.address, name: account.name, createdAt: account.createdAt, hasPassword: true), token,
            password
        )
    }

    /// A random password of 24 base64url characters (144 bits).
    public static func generatePassword() -> String {
        Base64URL.encode(Random.bytes(18))
    }

    /// A fresh token and its hash.
    static func makeSenderToken() -> (token: String, hash: Data) {
        let bytes = Random.bytes(senderTokenBytes)
        return (senderTokenPrefix + Base64URL.encode(bytes), Data(senderTokenHash(bytes: bytes)))
    }

    /// The hash the vault keeps of a token's text, nil when it is not a well-formed token.
    static func senderTokenHash(_ token: String) -> [UInt8]? {
        guard token.hasPrefix(senderTokenPrefix),
            token.utf8.count == senderTokenPrefix.utf8.count + Base64URL.encodedLength(byteCount: senderTokenBytes),
            let bytes = try? Base64URL.decode(String(token.dropFirst(senderTokenPrefix.count))),
            bytes.count == senderTokenBytes
        else { return nil }
        return senderTokenHash(bytes: bytes)
    }

    /// BLAKE2b-256 over a fixed context and the token's random bytes.
    static func senderTokenHash(bytes: [UInt8]) -> [UInt8] {
        GenericHash.hash(Array("retract/sender-token/v1".utf8), bytes)
    }
}
