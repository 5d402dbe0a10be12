import RetractMetrics
import Seal
import Vault

extension RetractService {
    /// Opens a link (`openUncounted`, which documents it) and counts the attempt by
    /// outcome: `opened`, or the failure's stable code (`invalid_key`, `revoked`, …).
    public func open(token: GrantToken, linkKey: LinkKey, code: String? = nil, client: String? = nil)
        async throws(OpenFailure) -> OpenedMessage
    {
        do {
            let opened = try await openUncounted(token: token, linkKey: linkKey, code: code, client: client)
            metrics.count(.opens, ["outcome": "opened"])
            return opened
        } catch {
            metrics.count(.opens, ["outcome": error.code])
            throw error
        }
    }

    /// Counts one sent message and its recipients.
    func countSend(recipients: Int) {
        metrics.count(.sends)
        metrics.count(.sendRecipients, by: recipients)
    }

    /// Counts the grants a revocation revoked, by outcome, and the notices it queued; grants
    /// revoked before are not counted again.
    func countRevocation(_ report: RecallReport) {
        for row in report.recipients where !row.alreadyRevoked {
            metrics.count(.revokes, ["outcome": row.outcome])
            if row.notice != "none" { metrics.count(.notices, ["kind": row.notice]) }
        }
    }

    /// Counts one outbox mail handed to the relay: `outcome` is delivered, deferred, failed
    /// or cancelled; the reply class is the relay's (2xx, 4xx, 5xx) or none.
    func countDelivery(_ outcome: String, reply: String? = nil) {
        metrics.count(.smtpDeliveries, ["outcome": outcome, "reply_class": RetractMetrics.replyClass(reply)])
    }

    /// Sets the scrape-time gauges: the outbox backlog and the key ring's state.
    ///
    /// Run by `/metrics` before it answers, so the figures are as fresh as the scrape; a
    /// vault that cannot be read leaves the last values (and is logged).
    public func updateStateGauges(into metrics: RetractMetrics) {
        let at = now()
        do {
            let backlog = try vault.outboxBacklog(now: at)
            metrics.set(.outboxDepth, Double(backlog.depth))
            metrics.set(.outboxOldestDueAge, backlog.oldestDue.map { max(0, at.timeIntervalSince($0)) } ?? 0)
            let states = try keyStates()
            metrics.set(.keys, Double(states.count))
            for state in states {
                metrics.set(.keyShares, Double(state.usage.shares), ["kid": state.kid])
                if state.state == .active, let created = state.createdAt {
                    metrics.set(.activeKeyAge, max(0, at.timeIntervalSince(created)))
                }
            }
        } catch {
            logger.warning("could not read the vault's state for /metrics", metadata: ["error": "\(error)"])
        }
    }
}
