import Foundation
import NIOCore
import PostgresNIO
import Vault

extension PostgresVaultDatabase {
    /// Stores a sealed message, its parts, its grants and their notifications, `mail`, and
    /// the hashes of its capabilities: either all of it is in the vault afterwards, or none.
    ///
    /// One transaction: the message row, then `writeParts` seals the parts into it through a
    /// `PostgresSealedPartWriter` (chunk rows a batch at a time, never a whole attachment in
    /// memory), then the grants, the mails and the capabilities. A thrown error (an
    /// unreadable attachment, the database going away) rolls all of it back.
    @discardableResult
    public func storeSealedMessage(
        _ message: MessageRecord, grants: [NewGrant], mail: [OutboxMailRecord] = [],
        capabilities: [(hash: Data, purpose: MessageCapability)] = [],
        writeParts: (PostgresSealedPartWriter) async throws -> Void
    ) async throws -> [GrantRecord] {
        let capabilities = capabilities.map { ($0.hash, $0.purpose) }
        return try await transaction("storing a message") { connection in
            let stored = try await Self.insertSealedMessage(
                message, grants: grants, on: connection, logger: logger, writeParts: writeParts)
            try await Self.insertOutboxMail(mail, on: connection, logger: logger)
            for (hash, purpose) in capabilities {
                try await Self.insertCapability(
                    hash, purpose: purpose, messageID: message.id, at: message.createdAt, on: connection, logger: logger)
            }
            return stored
        }
    }

    /// Inserts a message, its parts (sealed by `writeParts`), its grants and their
    /// notifications, inside the caller's transaction; returns the grants with their ids.
    static func insertSealedMessage(
        _ message: MessageRecord, grants: [NewGrant], on connection: PostgresConnection, logger: Logger,
        writeParts: (PostgresSealedPartWriter) async throws -> Void
    ) async throws -> [GrantRecord] {
        try await connection.query(
            """
            INSERT INTO messages (id, sender, sender_name, sealed_subject, subject_kid, locale, created_at, expires_at,
            max_views, deliver_after, part_count, supersedes, verify, origin)
            VALUES (\(message.id), \(message.sender), \(message.senderName), \(message.sealedSubject), \(message.subjectKid),
            \(message.locale), \(message.createdAt.postgres), \(message.expiresAt?.postgres), \(message.maxViews.map(Int64.init)),
            \(message.deliverAfter.postgres), \(Int64(message.partCount)), \(message.supersedes), \(message.verify),
            \(message.origin))
            """, logger: logger)
        let writer = PostgresSealedPartWriter(messageID: message.id, connection: connection, logger: logger)
        try await writeParts(writer)
        try writer.checkFinished()

        let returned = try await insertRows(
            grants.map(\.grant), columns: 14,
            into: """
                grants (message_id, token_hash, recipient, kind, share_kid, sealed_share, wrapped_dek, views,
                first_opened_at, last_opened_at, revoked_at, revoke_reason, notification_message_id, replacement_message_id)
                """,
            returning: "RETURNING id, token_hash", on: connection, logger: logger
        ) { binds, grant in
            binds.append(grant.messageId)
            try binds.append(grant.tokenHash)
            binds.append(grant.recipient)
            binds.append(grant.kind.rawValue)
            binds.append(grant.shareKid)
            try binds.append(grant.sealedShare)
            try binds.append(grant.wrappedDek)
            binds.append(Int64(grant.views))
            binds.append(grant.firstOpenedAt?.postgres)
            binds.append(grant.lastOpenedAt?.postgres)
            binds.append(grant.revokedAt?.postgres)
            binds.append(grant.revokeReason)
            binds.append(grant.notificationMessageId)
            binds.append(grant.replacementMessageId)
        }
        var ids: [Data: Int64] = [:]
        for row in returned { ids[try row.value("token_hash", as: Data.self)] = try row.value("id", as: Int64.self) }
        var stored: [GrantRecord] = []
        var notifications: [OutboxMailRecord] = []
        for pair in grants {
            var grant = pair.grant
            grant.id = ids[grant.tokenHash]
            if var notification = pair.notification {
                notification.grantId = grant.id
                notifications.append(notification)
            }
            stored.append(grant)
        }
        try await insertOutboxMail(notifications, on: connection, logger: logger)
        return stored
    }

    /// The message with this id.
    public func message(id: String) async throws -> MessageRecord? {
        try await withConnection("reading a message") { connection in
            try await Self.rows("SELECT * FROM messages WHERE id = \(id)", on: connection, logger: logger)
                .first.map { try MessageRecord(postgres: $0) }
        }
    }

    /// Every message, newest first.
    public func messages() async throws -> [MessageRecord] {
        try await withConnection("reading messages") { connection in
            try await Self.rows("SELECT * FROM messages ORDER BY created_at DESC, id", on: connection, logger: logger)
                .map { try MessageRecord(postgres: $0) }
        }
    }

    /// The grants of a message in the order they were created.
    public func grants(messageID: String) async throws -> [GrantRecord] {
        try await withConnection("reading grants") { connection in
            try await Self.rows(
                "SELECT * FROM grants WHERE message_id = \(messageID) ORDER BY id", on: connection, logger: logger
            ).map { try GrantRecord(postgres: $0) }
        }
    }

    /// The access log of a message, oldest first.
    public func accessEvents(messageID: String) async throws -> [AccessEventRecord] {
        try await withConnection("reading the access log") { connection in
            try await Self.rows(
                """
                SELECT e.* FROM access_events e JOIN grants g ON g.id = e.grant_id
                WHERE g.message_id = \(messageID) ORDER BY e.at, e.id
                """, on: connection, logger: logger
            ).map { try AccessEventRecord(postgres: $0) }
        }
    }

    /// The header and size of one sealed part.
    public func sealedPart(messageID: String, index: Int) async throws -> SealedPartRecord? {
        try await withConnection("reading a sealed part") { connection in
            try await Self.rows(
                "SELECT * FROM sealed_parts WHERE message_id = \(messageID) AND part_index = \(Int64(index))",
                on: connection, logger: logger
            ).first.map { try SealedPartRecord(postgres: $0) }
        }
    }

    /// One ciphertext chunk, or nil when it is not (or no longer) stored.
    public func sealedChunk(messageID: String, part: Int, chunk: Int) async throws -> [UInt8]? {
        try await sealedChunks(messageID: messageID, part: part, chunks: chunk..<(chunk + 1)).first
    }

    /// The ciphertext chunks `chunks` of one part, in order (fewer, or none, when they are
    /// not stored): a download reads a batch at a time this way, never a whole part.
    public func sealedChunks(messageID: String, part: Int, chunks: Range<Int>) async throws -> [[UInt8]] {
        guard !chunks.isEmpty, chunks.lowerBound >= 0 else { return [] }
        return try await withConnection("reading sealed chunks") { connection in
            var result: [[UInt8]] = []
            let rows = try await connection.query(
                """
                SELECT data FROM sealed_chunks WHERE message_id = \(messageID) AND part_index = \(Int64(part))
                AND chunk_index >= \(Int64(chunks.lowerBound)) AND chunk_index < \(Int64(chunks.upperBound))
                ORDER BY chunk_index
                """, logger: logger)
            for try await data in rows.decode(ByteBuffer.self) {
                result.append(Array(data.readableBytesView))
            }
            return result
        }
    }

    /// The messages the SMTP gateway received from `sender` (without case) created in
    /// `since ... before`, newest first, at most 100: the candidates of a native recall.
    public func gatewayMessages(sender: String, since: Date, before: Date) async throws -> [MessageRecord] {
        try await withConnection("reading gateway messages") { connection in
            try await Self.rows(
                """
                SELECT * FROM messages WHERE lower(sender) = lower(\(sender)) AND origin = 'gateway'
                AND created_at >= \(since.postgres) AND created_at <= \(before.postgres)
                ORDER BY created_at DESC, id LIMIT 100
                """, on: connection, logger: logger
            ).map { try MessageRecord(postgres: $0) }
        }
    }

    /// Every message (or only those `sender` sent, without case), newest first, with its
    /// recipient counts, in one query.
    public func messageSummaries(sender: String? = nil) async throws -> [(
        message: MessageRecord, recipients: Int, opened: Int, revoked: Int
    )] {
        try await withConnection("reading message summaries") { connection in
            try await Self.rows(
                """
                SELECT m.*, count(g.id) AS recipient_count, count(g.first_opened_at) AS opened_count,
                count(g.revoked_at) AS revoked_count
                FROM messages m LEFT JOIN grants g ON g.message_id = m.id
                WHERE \(sender)::text IS NULL OR lower(m.sender) = lower(\(sender))
                GROUP BY m.id ORDER BY m.created_at DESC, m.id
                """, on: connection, logger: logger
            ).map { row in
                (
                    message: try MessageRecord(postgres: row),
                    recipients: Int(try row.value("recipient_count", as: Int64.self)),
                    opened: Int(try row.value("opened_count", as: Int64.self)),
                    revoked: Int(try row.value("revoked_count", as: Int64.self))
                )
            }
        }
    }
}
