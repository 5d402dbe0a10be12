import Foundation
import Mail
import Vault

/// One pass of the outbox worker over a claimed batch: the gate and the outcome handler
/// that `RetractService.deliverDueMail()` gives the transport, and the tally.
///
/// At-least-once with one duplicate at most: when the server accepted mail i, `outcome(i)`
/// starts the checkpoint of mail i+1 — one write transaction that marks mail i sent and
/// checks that mail i+1 may still go out — and `gate(i + 1)` waits for it before mail
/// i+1's content can be accepted. So the commit overlaps mail i+1's envelope on the wire,
/// and at no moment are two mails accepted and unrecorded.
///
/// Revocation: the claim never picks a notification of a revoked grant, and the checkpoint
/// checks the grant again right before the server could accept the notification (before
/// DATA, or with PIPELINING before the content). The check runs in a write transaction, and
/// SQLite serialises write transactions, so a revoke either committed before it — the
/// notification is withheld and cancelled — or commits after it, when the notification is
/// already leaving: the same as a revoke of a mail already delivered, and the same window
/// as the per-mail read before the transport that this replaces, at no extra query.
actor OutboxPass {
    private let service: RetractService
    /// What the pass did so far.
    private(set) var run = DeliveryRun()
    private var mails: [OutboxMailRecord] = []
    /// The mail the server accepted last that no checkpoint has taken up yet.
    private var unconfirmed: String?
    /// Started checkpoints by mail index, with the mail each one marks sent.
    private var checkpoints: [Int: (task: Task<Bool, any Error>, confirms: String?)] = [:]

    init(service: RetractService) {
        self.service = service
    }

    /// Starts a batch: `mails` in the order given to the transport.
    func begin(_ mails: [OutboxMailRecord]) {
        self.mails = mails
        self.checkpoints = [:]
    }

    /// Whether mail `index` may be accepted now: waits for its checkpoint.
    func gate(_ index: Int) async -> Bool {
        (try? await self.checkpoint(index).task.value) ?? false
    }

    /// Records what became of mail `index`.
    func outcome(_ index: Int, _ result: Result<Bool, MailError>) async {
        let checkpoint = self.checkpoint(index)
        self.checkpoints[index] = nil
        let stillDeliverable: Bool?
        switch await checkpoint.task.result {
        case .success(let deliverable):
            if checkpoint.confirms != nil { self.run.delivered += 1 }
            stillDeliverable = deliverable
        case .failure(let error):
            if let confirms = checkpoint.confirms { self.service.recordUnconfirmed(confirms, error: error, run: &self.run) }
            stillDeliverable = nil
        }
        let mail = self.mails[index]
        switch result {
        case .success(true):
            self.unconfirmed = mail.id
            // Start recording it now, while the next mail's envelope is on the wire.
            if index + 1 < self.mails.count { _ = self.checkpoint(index + 1) }
        case .success(false):
            if stillDeliverable == false {
                do {
                    try self.service.vault.cancelMail(mailID: mail.id)
                    self.run.cancelled += 1
                } catch {
                    self.service.recordFailure(of: mail, error: error, run: &self.run)
                }
            } else {
                self.service.recordFailure(of: mail, error: VaultUnavailable(), run: &self.run)
            }
        case .failure(let error):
            self.service.recordFailure(of: mail, error: error, run: &self.run)
        }
    }

    /// Marks the last accepted mail sent at the end of a batch.
    func confirmLast() async {
        guard let mailID = self.unconfirmed else { return }
        self.unconfirmed = nil
        do {
            _ = try await self.service.vault.markDelivered(mailID, at: self.service.now(), thenCheck: nil)
            self.run.delivered += 1
        } catch {
            self.service.recordUnconfirmed(mailID, error: error, run: &self.run)
        }
    }

    /// The checkpoint of mail `index`, started on first use: it takes up the unconfirmed mail.
    private func checkpoint(_ index: Int) -> (task: Task<Bool, any Error>, confirms: String?) {
        if let started = self.checkpoints[index] { return started }
        let confirms = self.unconfirmed
        self.unconfirmed = nil
        let vault = self.service.vault
        let now = self.service.now
        let mailID = self.mails[index].id
        let task = Task { try await vault.markDelivered(confirms, at: now(), thenCheck: mailID) }
        self.checkpoints[index] = (task, confirms)
        return (task, confirms)
    }

    /// The vault could not answer a checkpoint before a mail's content went out.
    private struct VaultUnavailable: Error, CustomStringConvertible {
        var description: String { "the vault could not record the previous delivery; the mail was held back" }
    }
}
