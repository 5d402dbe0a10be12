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
    /// Mails are claimed in batches (`sending`; the next batch while the transport delivers
    /// this one), handed to the transport in order over its reused connection (one lane per
    /// connection when the transport has several, `MailTransport.deliveryLanes`), and marked `sent` only after the transport accepted them: a crash
    /// in between delivers the in-flight mail again on the next start (at least once, never
    /// lost, the same Message-ID). Temporary failures retry with exponential backoff and
    /// jitter; permanent ones stop at once.
    ///
    /// The commit that marks mail n sent starts as soon as the server accepted it and runs
    /// while mail n+1's envelope is on the wire; mail n+1's gate waits for it, so n+1's
    /// content cannot be accepted before n is recorded. At no moment is more than one mail
    /// per lane accepted by the server and not yet marked sent, and a crash duplicates at most
    /// that one per lane. See `OutboxPass` for how a revocation is still caught.
    public func deliverDueMail() async -> DeliveryRun {
        do {
            try vault.releaseClaims(claimedBefore: now().addingTimeInterval(-Self.staleClaimAge))
        } catch {
            logger.error("could not release stale outbox claims", metadata: ["error": "\(error)"])
        }
        // One lane per connection: while the server works on one lane's mail, another lane's
        // reply is answered, so the server does not wait for the client.
        return await withTaskGroup(of: DeliveryRun.self) { group in
            for _ in 0..<max(1, transport.deliveryLanes) {
                group.addTask { await self.deliverLane() }
            }
            var run = DeliveryRun()
            for await laneRun in group { run.add(laneRun) }
            return run
        }
    }

    /// One delivery lane: claims batches and hands them to the transport until nothing is due.
    ///
    /// The next batch is claimed and opened on another thread while the transport delivers
    /// this one, so the server never waits for the vault between two batches.
    private func deliverLane() async -> DeliveryRun {
        let pass = OutboxPass(service: self)
        var run = DeliveryRun()
        var upcoming: Task<ClaimedBatch?, Never>? = Task { self.claimNextBatch() }
        while let claiming = upcoming {
            guard let batch = await claiming.value else { break }
            upcoming = batch.considered == Self.claimBatch ? Task { self.claimNextBatch() } : nil
            run.add(batch.run)
            guard !batch.ready.isEmpty else {
                removeFinishedPassThroughCopies(of: batch.claimed)
                continue
            }
            await pass.begin(batch.ready)
            await transport.deliverInOrder(
                contents: batch.contents, gate: { await pass.gate($0) }, outcome: { await pass.outcome($0, $1) })
            await pass.confirmLast()
            removeFinishedPassThroughCopies(of: batch.claimed)
        }
        run.add(await pass.run)
        return run
    }

    /// Mails claimed for delivery and opened, ready for the transport.
    struct ClaimedBatch: Sendable {
        /// How many due mails the claim looked at (a full batch means more may be due, even
        /// when another lane claimed some of them first).
        var considered = 0
        /// Every mail claimed, opened or not.
        var claimed: [OutboxMailRecord] = []
        /// The mails that opened, in order.
        var ready: [OutboxMailRecord] = []
        /// Their contents (rendered bytes, or a pass-through copy streamed from its part) and
        /// envelopes, in the same order.
        var contents: [OutboundMail] = []
        /// Mails that could not be opened, recorded as failed.
        var run = DeliveryRun()
    }

    /// Claims the next batch of due mails and opens each one; nil when the vault could not
    /// be read (logged).
    func claimNextBatch() -> ClaimedBatch? {
        let claim: OutboxClaim
        do {
            claim = try vault.claimDueMail(now: now(), limit: Self.claimBatch)
        } catch {
            logger.error("could not claim outbox mail", metadata: ["error": "\(error)"])
            return nil
        }
        // The WAL the last batch's commits wrote goes into the database file here, off the
        // SMTP connection's thread (not on an idle pass, which wrote nothing).
        if claim.considered > 0 {
            do {
                try vault.checkpointAside()
            } catch {
                logger.warning("could not checkpoint the vault's WAL", metadata: ["error": "\(error)"])
            }
        }
        let claimed = claim.mails
        var batch = ClaimedBatch(considered: claim.considered, claimed: claimed)
        batch.ready.reserveCapacity(claimed.count)
        batch.contents.reserveCapacity(claimed.count)
        for mail in claimed {
            do {
                guard let sealed = mail.sealedData else {
                    try vault.markDeliveryFailed(mailID: mail.id, error: "the mail's data is missing", retryAt: nil)
                    batch.run.failed += 1
                    continue
                }
                let master = try keys.key(mail.dataKid)
                let bytes = try GrantCrypto.openMetadata(
                    [UInt8](sealed), master: master, context: Self.outboxContext(mail.id))
                let content = try outboundContent(of: mail, opened: bytes)
                batch.ready.append(mail)
                batch.contents.append(
                    OutboundMail(
                        content: content, envelope: MailEnvelope(mailFrom: mail.mailFrom, recipients: [mail.recipient]),
                        id: mail.id))
            } catch {
                recordFailure(of: mail, error: error, run: &batch.run)
            }
        }
        return batch
    }

    /// Puts every claim back in the queue; run once when the service starts, since a claim
    /// left over from before belongs to a process that is gone.
    public func releaseAllClaims() throws {
        try vault.releaseClaims(claimedBefore: .distantFuture)
        // Pass-through copies whose rows finished just before a crash, before their sweep.
        try vault.removeFinishedPassThroughCopies()
    }

    /// The server accepted the mail but the vault could not record it: it stays claimed and
    /// goes out again once the claim is released (a duplicate with the same Message-ID).
    func recordUnconfirmed(_ mailID: String, error: any Error, run: inout DeliveryRun) {
        logger.error(
            "could not mark an accepted mail sent; it will be delivered again",
            metadata: ["mail": "\(mailID)", "error": "\(error)"])
        run.deferred += 1
    }

    /// Records a failed attempt: retried later with backoff, or failed for good.
    func recordFailure(of mail: OutboxMailRecord, error: any Error, run: inout DeliveryRun) {
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
        countDelivery(giveUp ? "failed" : "deferred", reply: mailError?.smtpReply)
    }

    /// Exponential backoff with ±25 % jitter: `base` after the first failure, doubling,
    /// at most an hour.
    static func retryDelay(afterAttempts attempts: Int, base: TimeInterval) -> TimeInterval {
        let delay = min(base * pow(2, Double(min(attempts, 16))), 3600)
        return delay * Double.random(in: 0.75...1.25)
    }
}
