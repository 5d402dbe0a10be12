import Foundation
import GRDB

extension VaultDatabase {
    /// Adds a sender account; returns false (and changes nothing) when an account with the
    /// same address, compared case-insensitively, already exists.
    public func insertSender(_ sender: SenderRecord) throws -> Bool {
        try writer.write { db in
            let exists =
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS(SELECT 1 FROM senders WHERE lower(address) = lower(?))",
                    arguments: [sender.address]) ?? false
            guard !exists else { return false }
            try sender.insert(db)
            return true
        }
    }

    /// The account with this address, compared case-insensitively.
    public func sender(address: String) throws -> SenderRecord? {
        try reader.read { db in
            try SenderRecord.fetchOne(
                db, sql: "SELECT * FROM senders WHERE lower(address) = lower(?)", arguments: [address])
        }
    }

    /// The account whose API token hashes to `tokenHash`.
    public func sender(tokenHash: Data) throws -> SenderRecord? {
        try reader.read { db in
            try SenderRecord.filter(SenderRecord.Columns.tokenHash == tokenHash).fetchOne(db)
        }
    }

    /// Every account, oldest first.
    public func senders() throws -> [SenderRecord] {
        try reader.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM senders ORDER BY created_at, address")
            return UnreadableRows.decodeEach(rows, table: "senders") { try SenderRecord(row: $0) }.values
        }
    }

    /// Whether there is no sender account and no message yet: a vault fresh from `init`.
    public func isEmptyOfSendersAndMessages() throws -> Bool {
        try reader.read { db in
            let senders = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM senders") ?? 0
            let messages = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") ?? 0
            return senders == 0 && messages == 0
        }
    }

    /// Removes an account and, by cascade, its web sessions; returns whether one existed.
    /// The sender's messages stay in the vault, but their manage links stop working for good
    /// (an account created again under the same address does not bring them back).
    public func deleteSender(address: String) throws -> Bool {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM senders WHERE lower(address) = lower(?)", arguments: [address])
            let existed = db.changesCount > 0
            try db.execute(
                sql: "DELETE FROM manage_links WHERE message_id IN (SELECT id FROM messages WHERE lower(sender) = lower(?))",
                arguments: [address])
            return existed
        }
    }

    /// The message a manage link names and its sender's account, when the link is known, the
    /// message has not expired at `now` and the account still exists; nil otherwise.
    public func manageLink(hash: Data, now: Date) throws -> (messageID: String, sender: SenderRecord)? {
        try capability(hash: hash, purpose: .manage, now: now)
    }

    /// The message a capability of `purpose` names and its sender's account, while the
    /// message lives and the account exists; nil otherwise.
    public func capability(hash: Data, purpose: MessageCapability, now: Date) throws -> (
        messageID: String, sender: SenderRecord
    )? {
        try reader.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT m.id, m.sender FROM manage_links l JOIN messages m ON m.id = l.message_id
                        WHERE l.id_hash = ? AND l.purpose = ? AND (m.expires_at IS NULL OR m.expires_at > ?)
                        """,
                    arguments: [hash, purpose.rawValue, now])
            else { return nil }
            let (messageID, address) = try UnreadableRows.decode(row, table: "messages") {
                (try $0.decode(forColumn: "id") as String, try $0.decode(forColumn: "sender") as String)
            }
            guard
                let senderRow = try Row.fetchOne(
                    db, sql: "SELECT * FROM senders WHERE lower(address) = lower(?)", arguments: [address])
            else { return nil }
            let sender = try UnreadableRows.decode(senderRow, table: "senders") { try SenderRecord(row: $0) }
            return (messageID, sender)
        }
    }

    /// Replaces an account's token hash, so the old token stops working at once; returns
    /// whether the account exists.
    public func replaceSenderToken(address: String, tokenHash: Data, at: Date) throws -> Bool {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE senders SET token_hash = ?, token_created_at = ? WHERE lower(address) = lower(?)",
                arguments: [tokenHash, at, address])
            return db.changesCount > 0
        }
    }

    /// Sets an account's password hash and ends its web sessions (a changed password signs
    /// every browser out); returns whether the account exists.
    public func setSenderPassword(address: String, passwordHash: String, at: Date) throws -> Bool {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE senders SET password_hash = ?, password_set_at = ? WHERE lower(address) = lower(?)",
                arguments: [passwordHash, at, address])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql:
                    "DELETE FROM web_sessions WHERE sender IN (SELECT address FROM senders WHERE lower(address) = lower(?))",
                arguments: [address])
            return true
        }
    }

    /// Starts a web session.
    public func insertWebSession(_ session: WebSessionRecord) throws {
        try writer.write { db in try session.insert(db) }
    }

    /// The session whose cookie hashes to `idHash`, with its account.
    public func webSession(idHash: Data) throws -> (session: WebSessionRecord, sender: SenderRecord)? {
        try reader.read { db in
            // A session row that does not decode is no session: the sender signs in again.
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM web_sessions WHERE id_hash = ?", arguments: [idHash]),
                let session = UnreadableRows.decodeEach([row], table: "web_sessions", { try WebSessionRecord(row: $0) })
                    .values.first,
                let sender = try SenderRecord.fetchOne(db, key: session.sender)
            else { return nil }
            return (session, sender)
        }
    }

    /// Records activity on a session: its idle timeout starts again from `at`.
    public func touchWebSession(idHash: Data, at: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ?", arguments: [at, idHash])
        }
    }

    /// Stores the language a session chose.
    public func setWebSessionLocale(idHash: Data, locale: String?) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE web_sessions SET locale = ? WHERE id_hash = ?", arguments: [locale, idHash])
        }
    }

    /// Ends one session.
    public func deleteWebSession(idHash: Data) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM web_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }

    /// Ends every session idle since before `cutoff`; returns how many.
    @discardableResult
    public func deleteWebSessions(lastSeenBefore cutoff: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM web_sessions WHERE last_seen_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
