import Foundation
import Vault

extension RetractService {
    /// Everything not yet delivered, with the reason it waits.
    public func outbox() throws -> [OutboxEntry] {
        let at = now()
        return try vault.pendingMail().map { mail in
            OutboxEntry(
                id: mail.id, kind: mail.kind.rawValue, messageId: mail.messageId, recipient: mail.recipient,
                state: mail.state.rawValue, attempts: mail.attempts, notBefore: mail.notBefore,
                lastError: mail.lastError, lastReply: mail.lastReply, why: Self.reason(mail, at: at))
        }
    }

    static func reason(_ mail: OutboxMailRecord, at: Date) -> String {
        let when = ISO8601DateFormatter().string(from: mail.notBefore)
        switch mail.state {
        case .sending: return "being delivered now"
        case .failed: return "failed for good: \(mail.lastReply ?? mail.lastError ?? "no reason recorded")"
        case .retrying: return "retry at \(when) after: \(mail.lastReply ?? mail.lastError ?? "an error")"
        case .queued where mail.notBefore > at:
            return mail.kind == .notification ? "held in the undo window until \(when)" : "due at \(when)"
        default: return "due now; `retract serve` or `retract deliver` sends it"
        }
    }
}
