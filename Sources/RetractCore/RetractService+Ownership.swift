import Foundation
import Vault

extension RetractService {
    /// The messages `sender` sent, newest first.
    public func list(sender: String) throws -> [MessageSummary] {
        try vault.messageSummaries(sender: sender).map { row in
            MessageSummary(
                id: row.message.id, sender: row.message.sender, subject: (try? subject(of: row.message)) ?? "?",
                createdAt: row.message.createdAt, recipients: row.recipients, opened: row.opened, revoked: row.revoked,
                origin: row.message.origin)
        }
    }

    /// The state of one of `sender`'s messages; another sender's message is reported exactly
    /// like a missing one, so ids of others' messages cannot be probed.
    public func status(messageID: String, sender: String) throws -> MessageStatus {
        try requireOwnership(messageID: messageID, sender: sender)
        return try status(messageID: messageID)
    }

    /// Revokes one of `sender`'s messages (see `revoke(_:)`).
    public func revoke(_ request: RevokeRequest, sender: String) async throws -> RecallReport {
        try requireOwnership(messageID: request.messageID, sender: sender)
        return try await revoke(request)
    }

    /// Undoes one of `sender`'s messages inside its send delay: cancels every held
    /// notification and destroys the key material and content, mailing nobody.
    ///
    /// Allowed only while no notification has left the outbox (each is still queued and
    /// never attempted), checked and done in one transaction, so a delivery racing with it
    /// either wins (and this throws `tooLateToCancel`, changing nothing) or never happens.
    /// Cancelling again afterwards reports the same recipients as already revoked.
    public func cancel(messageID: String, sender: String) async throws -> RecallReport {
        try requireOwnership(messageID: messageID, sender: sender)
        let at = now()
        let report = try vault.revoke(messageID: messageID) { tx in
            var rows: [RecallReport.Recipient] = []
            var cancelled: [Int64] = []
            for grant in try tx.grants() {
                guard let grantID = grant.id else { continue }
                let notification = try tx.notification(grantID: grantID)
                if grant.revokedAt != nil {
                    rows.append(
                        .init(
                            address: grant.recipient, kind: grant.kind.rawValue, openedAt: grant.firstOpenedAt,
                            outcome: Self.outcome(
                                cancelled: notification?.state == .cancelled, opened: grant.firstOpenedAt != nil),
                            notice: "none", revokedAt: grant.revokedAt, alreadyRevoked: true, replacementSent: false))
                    continue
                }
                guard let notification, notification.state == .queued, notification.attempts == 0,
                    try tx.cancelQueuedNotification(grantID: grantID)
                else { throw RetractError.tooLateToCancel(messageID) }
                cancelled.append(grantID)
                rows.append(
                    .init(
                        address: grant.recipient, kind: grant.kind.rawValue, openedAt: nil,
                        outcome: Self.outcome(cancelled: true, opened: false), notice: "none", revokedAt: at,
                        alreadyRevoked: false, replacementSent: false))
            }
            for grantID in cancelled {
                try tx.revokeGrant(grantID, at: at, reason: nil, replacementMessageID: nil)
            }
            let destroyed = try tx.deleteSealedPartsIfUnreachable()
            return RecallReport(
                id: messageID, revokedAt: at, reason: nil, replacementId: nil, recipients: rows,
                contentDestroyed: destroyed)
        }
        logger.info(
            "message cancelled in its send delay",
            metadata: [
                "message": "\(messageID)", "recipients": "\(report.recipients.filter { !$0.alreadyRevoked }.count)",
            ])
        return report
    }

    /// Throws `messageNotFound` unless the message exists and `sender` sent it.
    func requireOwnership(messageID: String, sender: String) throws {
        guard let message = try vault.message(id: messageID),
            message.sender.lowercased() == sender.lowercased()
        else { throw RetractError.messageNotFound(messageID) }
    }
}
