import Foundation
import PostgresNIO
import Sodium
import Vault

extension PostgresVaultDatabase {
    /// Adds a sender account; returns false (and changes nothing) when an account with the
    /// same address, compared case-insensitively, already exists.
    ///
    /// The check and the insert run under an advisory lock of the lower-cased address, so two
    /// nodes adding `Alice@…` and `alice@…` at once cannot both succeed (the primary key alone
    /// compares case-sensitively).
    public func insertSender(_ sender: SenderRecord) async throws -> Bool {
        try await transaction("adding a sender") { connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(Self.senderLock(sender.address)))", logger: logger)
            let exists = try await Self.rows(
                "SELECT 1 FROM senders WHERE lower(address) = lower(\(sender.address))", on: connection, logger: logger)
            guard exists.isEmpty else { return false }
            try await connection.query(
                """
                INSERT INTO senders (address, name, token_hash, password_hash, created_at, token_created_at, password_set_at)
                VALUES (\(sender.address), \(sender.name), \(sender.tokenHash), \(sender.passwordHash),
                \(sender.createdAt.postgres), \(sender.tokenCreatedAt.postgres), \(sender.passwordSetAt?.postgres))
                """, logger: logger)
            return true
        }
    }

    /// The account with this address, compared case-insensitively.
    public func sender(address: String) async throws -> SenderRecord? {
        try await senderRows("SELECT * FROM senders WHERE lower(address) = lower(\(address))").first
    }

    /// The account whose API token hashes to `tokenHash`.
    public func sender(tokenHash: Data) async throws -> SenderRecord? {
        try await senderRows("SELECT * FROM senders WHERE token_hash = \(tokenHash)").first
    }

    /// Every account, oldest first.
    public func senders() async throws -> [SenderRecord] {
        try await senderRows("SELECT * FROM senders ORDER BY created_at, address")
    }

    /// Whether there is no sender account and no message yet: a vault fresh from `init`.
    public func isEmptyOfSendersAndMessages() async throws -> Bool {
        try await withConnection("checking for an empty vault") { connection in
            let rows = try await Self.rows(
                "SELECT NOT EXISTS (SELECT 1 FROM senders) AND NOT EXISTS (SELECT 1 FROM messages) AS empty",
                on: connection, logger: logger)
            return try rows.first?.value("empty", as: Bool.self) ?? false
        }
    }

    /// Removes an account and, by cascade, its web sessions; returns whether one existed.
    /// The sender's messages stay, but their manage links stop working for good.
    public func deleteSender(address: String) async throws -> Bool {
        try await transaction("deleting a sender") { connection in
            let deleted = try await Self.rows(
                "DELETE FROM senders WHERE lower(address) = lower(\(address)) RETURNING 1", on: connection, logger: logger)
            try await connection.query(
                """
                DELETE FROM manage_links WHERE message_id IN (SELECT id FROM messages WHERE lower(sender) = lower(\(address)))
                """, logger: logger)
            return !deleted.isEmpty
        }
    }

    /// The message a manage link names and its sender's account, while the message lives
    /// and the account exists; nil otherwise.
    public func manageLink(hash: Data, now: Date) async throws -> (messageID: String, sender: SenderRecord)? {
        try await capability(hash: hash, purpose: .manage, now: now)
    }

    /// The message a capability of `purpose` names and its sender's account, while the
    /// message lives and the account exists; nil otherwise.
    public func capability(hash: Data, purpose: MessageCapability, now: Date) async throws -> (
        messageID: String, sender: SenderRecord
    )? {
        try await withConnection("looking up a capability") { connection in
            guard
                let row = try await Self.rows(
                    """
                    SELECT m.id AS message_id, s.* FROM manage_links l JOIN messages m ON m.id = l.message_id
                    JOIN senders s ON lower(s.address) = lower(m.sender)
                    WHERE l.id_hash = \(hash) AND l.purpose = \(purpose.rawValue)
                    AND (m.expires_at IS NULL OR m.expires_at > \(now.postgres))
                    LIMIT 1
                    """, on: connection, logger: logger
                ).first
            else { return nil }
            return (try row.value("message_id", as: String.self), try SenderRecord(postgres: row))
        }
    }

    /// Replaces an account's token hash, so the old token stops working at once on every
    /// node; returns whether the account exists.
    public func replaceSenderToken(address: String, tokenHash: Data, at: Date) async throws -> Bool {
        try await withConnection("replacing a sender's token") { connection in
            !(try await Self.rows(
                """
                UPDATE senders SET token_hash = \(tokenHash), token_created_at = \(at.postgres)
                WHERE lower(address) = lower(\(address)) RETURNING 1
                """, on: connection, logger: logger
            ).isEmpty)
        }
    }

    /// Sets an account's password hash and ends its web sessions (a changed password signs
    /// every browser out, on every node); returns whether the account exists.
    public func setSenderPassword(address: String, passwordHash: String, at: Date) async throws -> Bool {
        try await transaction("setting a sender's password") { connection in
            let updated = try await Self.rows(
                """
                UPDATE senders SET password_hash = \(passwordHash), password_set_at = \(at.postgres)
                WHERE lower(address) = lower(\(address)) RETURNING address
                """, on: connection, logger: logger)
            guard let row = updated.first else { return false }
            try await connection.query(
                "DELETE FROM web_sessions WHERE sender = \(try row.value("address", as: String.self))", logger: logger)
            return true
        }
    }

    /// Starts a web session.
    public func insertWebSession(_ session: WebSessionRecord) async throws {
        try await withConnection("starting a web session") { connection in
            try await connection.query(
                """
                INSERT INTO web_sessions (id_hash, sender, created_at, last_seen_at, locale, message_scope)
                VALUES (\(session.idHash), \(session.sender), \(session.createdAt.postgres), \(session.lastSeenAt.postgres),
                \(session.locale), \(session.messageScope))
                """, logger: logger)
        }
    }

    /// The session whose cookie hashes to `idHash`, with its account.
    public func webSession(idHash: Data) async throws -> (session: WebSessionRecord, sender: SenderRecord)? {
        try await withConnection("reading a web session") { connection in
            guard
                let row = try await Self.rows(
                    "SELECT * FROM web_sessions WHERE id_hash = \(idHash)", on: connection, logger: logger
                ).first
            else { return nil }
            let session = try WebSessionRecord(postgres: row)
            guard
                let senderRow = try await Self.rows(
                    "SELECT * FROM senders WHERE address = \(session.sender)", on: connection, logger: logger
                ).first
            else { return nil }
            return (session, try SenderRecord(postgres: senderRow))
        }
    }

    /// Records activity on a session: its idle timeout starts again from `at`.
    public func touchWebSession(idHash: Data, at: Date) async throws {
        try await execute(
            "UPDATE web_sessions SET last_seen_at = \(at.postgres) WHERE id_hash = \(idHash)", step: "touching a web session")
    }

    /// Stores the language a session chose.
    public func setWebSessionLocale(idHash: Data, locale: String?) async throws {
        try await execute(
            "UPDATE web_sessions SET locale = \(locale) WHERE id_hash = \(idHash)", step: "setting a session's language")
    }

    /// Ends one session (on every node: the row is the session).
    public func deleteWebSession(idHash: Data) async throws {
        try await execute("DELETE FROM web_sessions WHERE id_hash = \(idHash)", step: "ending a web session")
    }

    /// Ends every session idle since before `cutoff`; returns how many.
    @discardableResult
    public func deleteWebSessions(lastSeenBefore cutoff: Date) async throws -> Int {
        try await withConnection("ending idle web sessions") { connection in
            try await Self.rows(
                "DELETE FROM web_sessions WHERE last_seen_at < \(cutoff.postgres) RETURNING 1", on: connection,
                logger: logger
            ).count
        }
    }

    // MARK: Helpers

    private func senderRows(_ query: PostgresQuery) async throws -> [SenderRecord] {
        try await withConnection("reading senders") { connection in
            try await Self.rows(query, on: connection, logger: logger).map { try SenderRecord(postgres: $0) }
        }
    }

    /// Runs one statement whose rows nobody reads.
    func execute(_ query: PostgresQuery, step: String) async throws {
        try await withConnection(step) { connection in
            try await connection.query(query, logger: logger)
        }
    }

    /// The advisory lock of one sender address (lower-cased), as for rate limits.
    static func senderLock(_ address: String) -> Int64 {
        var hash = GenericHash()
        hash.update(Array("retract-sender".utf8) + [0] + Array(address.lowercased().utf8))
        return hash.finalize().prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }
}
