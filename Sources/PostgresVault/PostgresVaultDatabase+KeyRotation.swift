import Foundation
import PostgresNIO
import Vault

/// Key rotation's three operations on PostgreSQL, with `VaultDatabase`'s meaning: any node
/// may run a pass, since every replacement is a compare-and-swap that leaves a row changed
/// meanwhile (a revoke, a delivery, another node's pass) as it is.
extension PostgresVaultDatabase {
    /// For each key id the vault refers to in a live value, how many such values it seals;
    /// sorted by kid.
    public func keyUsage() async throws -> [KeyUsage] {
        try await withConnection("counting key usage") { connection in
            let rows = try await Self.rows(
                """
                SELECT 'share' AS kind, share_kid AS kid, count(*) AS n FROM grants
                WHERE sealed_share IS NOT NULL AND share_kid IS NOT NULL GROUP BY share_kid
                UNION ALL SELECT 'subject', subject_kid, count(*) FROM messages GROUP BY subject_kid
                UNION ALL SELECT 'outbox', data_kid, count(*) FROM outbox WHERE sealed_data IS NOT NULL GROUP BY data_kid
                """, on: connection, logger: logger)
            var usage: [String: KeyUsage] = [:]
            for row in rows {
                let kid: String = try row.value("kid")
                let count = Int(try row.value("n", as: Int64.self))
                switch try row.value("kind", as: String.self) {
                case "share": usage[kid, default: KeyUsage(kid: kid)].shares += count
                case "subject": usage[kid, default: KeyUsage(kid: kid)].subjects += count
                default: usage[kid, default: KeyUsage(kid: kid)].outboxData += count
                }
            }
            return usage.values.sorted { $0.kid < $1.kid }
        }
    }

    /// Up to `limit` live values of `kind` sealed under any key but `kid`, in row order,
    /// starting after the row `after` (nil: from the first).
    public func sealedValues(_ kind: SealedValue.Kind, notUnder kid: String, after: String?, limit: Int)
        async throws -> [SealedValue]
    {
        try await withConnection("reading sealed values") { connection in
            switch kind {
            case .share:
                return try await Self.rows(
                    """
                    SELECT id, share_kid, sealed_share, token_hash FROM grants
                    WHERE id > \(after.flatMap { Int64($0) } ?? 0) AND sealed_share IS NOT NULL
                    AND share_kid IS DISTINCT FROM \(kid) ORDER BY id LIMIT \(Int64(limit))
                    """, on: connection, logger: logger
                ).map { row in
                    SealedValue(
                        kind: .share, rowID: String(try row.value("id", as: Int64.self)),
                        kid: try row.value("share_kid", as: String?.self) ?? "", sealed: try row.value("sealed_share"),
                        tokenHash: try row.value("token_hash"))
                }
            case .subject:
                return try await Self.rows(
                    """
                    SELECT id, subject_kid, sealed_subject FROM messages
                    WHERE id > \(after ?? "") AND subject_kid IS DISTINCT FROM \(kid) ORDER BY id LIMIT \(Int64(limit))
                    """, on: connection, logger: logger
                ).map { row in
                    SealedValue(
                        kind: .subject, rowID: try row.value("id"), kid: try row.value("subject_kid"),
                        sealed: try row.value("sealed_subject"))
                }
            case .outboxData:
                return try await Self.rows(
                    """
                    SELECT id, data_kid, sealed_data FROM outbox
                    WHERE id > \(after ?? "") AND sealed_data IS NOT NULL AND data_kid IS DISTINCT FROM \(kid)
                    ORDER BY id LIMIT \(Int64(limit))
                    """, on: connection, logger: logger
                ).map { row in
                    SealedValue(
                        kind: .outboxData, rowID: try row.value("id"), kid: try row.value("data_kid"),
                        sealed: try row.value("sealed_data"))
                }
            }
        }
    }

    /// Writes each replacement whose row still holds the original value under the original
    /// kid, in one transaction; returns how many were written.
    @discardableResult
    public func replaceSealedValues(_ replacements: [SealedValue.Replacement]) async throws -> Int {
        guard !replacements.isEmpty else { return 0 }
        return try await transaction("re-sealing values") { connection in
            var written = 0
            for replacement in replacements {
                let original = replacement.original
                let query: PostgresQuery
                switch original.kind {
                case .share:
                    guard let id = Int64(original.rowID) else { continue }
                    query = try """
                        UPDATE grants SET share_kid = \(replacement.kid), sealed_share = \(replacement.sealed)
                        WHERE id = \(id) AND share_kid = \(original.kid) AND sealed_share = \(original.sealed) RETURNING 1
                        """
                case .subject:
                    query = try """
                        UPDATE messages SET subject_kid = \(replacement.kid), sealed_subject = \(replacement.sealed)
                        WHERE id = \(original.rowID) AND subject_kid = \(original.kid)
                        AND sealed_subject = \(original.sealed) RETURNING 1
                        """
                case .outboxData:
                    query = try """
                        UPDATE outbox SET data_kid = \(replacement.kid), sealed_data = \(replacement.sealed)
                        WHERE id = \(original.rowID) AND data_kid = \(original.kid) AND sealed_data = \(original.sealed)
                        RETURNING 1
                        """
                }
                written += try await Self.rows(query, on: connection, logger: logger).count
            }
            return written
        }
    }

    // MARK: Pass-through copies

    /// The header and size of one sealed part (`sealedPart(messageID:index:)`; SQLite has a
    /// synchronous twin for its outbox worker).
    public func sealedPartRecord(messageID: String, index: Int) async throws -> SealedPartRecord? {
        try await sealedPart(messageID: messageID, index: index)
    }

    /// Removes the pass-through copies (part 1) of the messages among `messageIDs` (of every
    /// message when nil) that nothing needs any more: every `passthrough` row of the message
    /// is done and no grant of it is live. Returns how many it removed; their chunk rows go
    /// with them.
    @discardableResult
    public func removeFinishedPassThroughCopies(messageIDs: [String]? = nil) async throws -> Int {
        if let messageIDs, messageIDs.isEmpty { return 0 }
        let part = Int64(VaultDatabase.passThroughPartIndex)
        return try await withConnection("removing pass-through copies") { connection in
            try await Self.rows(
                """
                DELETE FROM sealed_parts p WHERE p.part_index = \(part)
                AND (\(messageIDs)::text[] IS NULL OR p.message_id = ANY(\(messageIDs)::text[]))
                AND EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = p.message_id AND o.kind = 'passthrough')
                AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = p.message_id AND o.kind = 'passthrough'
                    AND o.state IN ('queued', 'sending', 'retrying'))
                AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.message_id = p.message_id AND g.revoked_at IS NULL)
                RETURNING 1
                """, on: connection, logger: logger
            ).count
        }
    }
}
