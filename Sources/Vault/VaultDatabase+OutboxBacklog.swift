import Foundation
import GRDB

extension VaultDatabase {
    /// The outbox's depth and its oldest due mail at `now`, in one read.
    ///
    /// Notifications of a revoked grant are due but never claimed; they count like any mail
    /// until a pass cancels them, so the figure matches what `retract outbox` lists.
    public func outboxBacklog(now: Date) throws -> OutboxBacklog {
        try reader.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*),
                        min(CASE WHEN state IN ('queued', 'retrying') AND not_before <= ? THEN not_before END)
                    FROM outbox WHERE state IN ('queued', 'sending', 'retrying')
                    """,
                arguments: [now])
            let depth: Int = row?[0] ?? 0
            let oldest: Date? = row?[1]
            return OutboxBacklog(depth: depth, oldestDue: oldest)
        }
    }
}
