import Foundation
import Mail
import Seal
import Vault

extension RetractService {
    /// How long a mail is retried before it fails for good.
    public static let deliveryGiveUpAfter: TimeInterval = 2 * 86_400

    /// Delivers every queued mail whose time has come, once; returns what happened.
    ///
    /// A mail is marked sent only after the transport accepted it, so a crash in between
    /// delivers it again on the next pass (at least once, never lost).
    public func deliverDueMail() async -> DeliveryRun {
        var run = DeliveryRun()
        let due: [OutboxMailRecord]
        do {
            try vault.cancelNotificationsOfRevokedGrants()
            due = try vault.dueMail(now: now())
        } catch {
            logger.error("could not read the outbox", metadata: ["error": "\(error)"])
            return run
        }
        for mail in due {
            do {
                guard try vault.isStillDeliverable(mailID: mail.id) else { continue }
                guard let sealed = mail.sealedData else {
                    try vault.markDeliveryFailed(mailID: mail.id, error: "mail data missing", retryAt: nil)
                    run.failed += 1
                    continue
                }
                let master = try keys.key(mail.dataKid)
                let bytes = try GrantCrypto.openMetadata(
                    [UInt8](sealed), master: master, context: Self.outboxContext(mail.id))
                try await transport.deliver(
                    bytes, envelope: MailEnvelope(mailFrom: mail.mailFrom, recipients: [mail.recipient]), id: mail.id)
                try vault.markDelivered(mailID: mail.id, at: now())
                run.delivered += 1
            } catch {
                let giveUp = now().timeIntervalSince(mail.createdAt) > Self.deliveryGiveUpAfter
                let retryAt = giveUp ? nil : now().addingTimeInterval(Self.retryDelay(afterAttempts: mail.attempts))
                try? vault.markDeliveryFailed(mailID: mail.id, error: "\(error)", retryAt: retryAt)
                logger.warning("delivery failed", metadata: ["mail": "\(mail.id)", "error": "\(error)"])
                if giveUp { run.failed += 1 } else { run.deferred += 1 }
            }
        }
        return run
    }

    /// Exponential backoff with jitter: about 30 s after the first failure, doubling, at
    /// most an hour.
    static func retryDelay(afterAttempts attempts: Int) -> TimeInterval {
        let base = min(30 * pow(2, Double(min(attempts, 7))), 3600)
        return base * Double.random(in: 0.75...1.25)
    }
}
