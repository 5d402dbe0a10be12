import Foundation
import Mail
import Seal
import Vault

extension RetractService {
    /// Mails claimed per round trip to the vault.
    static let claimBatch = 100
    /// A claim older than this belongs to a worker that died; its mails go back in the queue.
    static let staleClaimAge: TimeInterval = 10 * 60

    /// Delivers every mail whose time has come, then returns what happened.
    ///
    /// Mails are claimed in batches (`sending`), handed to the transport one by one over
    /// its reused connection, and marked `sent` only after the transport accepted them: a
    /// crash in between delivers the in-flight mail again on the next start (at least
    /// once, never lost, the same Message-ID). Temporary failures retry with exponential
    /// backoff and jitter; permanent ones stop at once.
    public func deliverDueMail() async -> DeliveryRun {
        var run = DeliveryRun()
        do {
            try vault.releaseClaims(claimedBefore: now().addingTimeInterval(-Self.staleClaimAge))
        } catch {
            logger.error("could not release stale outbox claims", metadata: ["error": "\(error)"])
        }
        while true {
            let claimed: [OutboxMailRecord]
            do {
                claimed = try vault.claimDueMail(now: now(), limit: Self.claimBatch)
            } catch {
                logger.error("could not claim outbox mail", metadata: ["error": "\(error)"])
                return run
            }
            for mail in claimed {
                await deliver(mail, run: &run)
            }
            if claimed.count < Self.claimBatch { return run }
        }
    }

    /// Puts every claim back in the queue; run once when the service starts, since a claim
    /// left over from before belongs to a process that is gone.
    public func releaseAllClaims() throws {
        try vault.releaseClaims(claimedBefore: .distantFuture)
    }

    private func deliver(_ mail: OutboxMailRecord, run: inout DeliveryRun) async {
        do {
            guard try vault.isStillDeliverable(mailID: mail.id) else {
                try vault.cancelMail(mailID: mail.id)
                run.cancelled += 1
                return
            }
            guard let sealed = mail.sealedData else {
                try vault.markDeliveryFailed(mailID: mail.id, error: "the mail's data is missing", retryAt: nil)
                run.failed += 1
                return
            }
            let master = try keys.key(mail.dataKid)
            let bytes = try GrantCrypto.openMetadata([UInt8](sealed), master: master, context: Self.outboxContext(mail.id))
            try await transport.deliver(
                bytes, envelope: MailEnvelope(mailFrom: mail.mailFrom, recipients: [mail.recipient]), id: mail.id)
            try vault.markDelivered(mailID: mail.id, at: now())
            run.delivered += 1
        } catch {
            let mailError = error as? MailError
            // A configuration problem (refused credentials, untrusted certificate) fails
            // every mail alike until an operator fixes it: keep the mail queued.
            let temporary = (mailError?.isTemporary ?? true) || (mailError?.isConfigurationProblem ?? false)
            let age = now().timeIntervalSince(mail.createdAt)
            let giveUp = !temporary || age > configuration.deliveryGiveUpAfter
            let retryAt =
                giveUp
                ? nil
                : now().addingTimeInterval(Self.retryDelay(afterAttempts: mail.attempts, base: configuration.retryBaseDelay))
            var text = String(describing: error)
            if let reply = mailError?.smtpReply, !text.contains(reply) { text += " (server said: \(reply))" }
            do {
                try vault.markDeliveryFailed(mailID: mail.id, error: text, reply: mailError?.smtpReply, retryAt: retryAt)
            } catch {
                logger.error("could not record a delivery failure", metadata: ["mail": "\(mail.id)"])
            }
            logger.warning(
                "delivery failed", metadata: ["mail": "\(mail.id)", "error": "\(text)", "retry": "\(retryAt != nil)"])
            if giveUp { run.failed += 1 } else { run.deferred += 1 }
        }
    }

    /// Exponential backoff with ±25 % jitter: `base` after the first failure, doubling,
    /// at most an hour.
    static func retryDelay(afterAttempts attempts: Int, base: TimeInterval) -> TimeInterval {
        let delay = min(base * pow(2, Double(min(attempts, 16))), 3600)
        return delay * Double.random(in: 0.75...1.25)
    }
}
