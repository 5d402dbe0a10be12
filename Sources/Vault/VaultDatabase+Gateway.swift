import Foundation
import GRDB

extension VaultDatabase {
    /// Stores a message the SMTP gateway received: its sealed parts, its grants with their
    /// notifications, and further outbox rows (the pass-through copies, the sender's
    /// receipt), all in one transaction: either all of it is in the vault afterwards, or none.
    ///
    /// Like `storeSealedMessage`, the parts are sealed by `writeParts` into staging files
    /// before and outside the write transaction.
    @discardableResult
    public func storeGatewayMessage(
        _ message: MessageRecord, grants: [NewGrant], mail: [OutboxMailRecord],
        writeParts: (SealedPartWriter) throws -> Void
    ) throws -> [GrantRecord] {
        let files = PartFileJournal(store: parts)
        do {
            try writeParts(SealedPartWriter(messageID: message.id, files: files))
            let stored = try writer.write { db in
                let stored = try Self.insertSealedMessage(message, grants: grants, in: db, files: files) { _ in }
                for row in mail { try row.insert(db) }
                try files.prepareCommit()
                return stored
            }
            files.committed()
            return stored
        } catch {
            files.rolledBack()
            throw error
        }
    }
}
