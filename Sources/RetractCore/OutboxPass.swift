import Foundation
import Mail
import Vault

/// One delivery lane's pass of the outbox worker over its claimed batches: the gate and the
/// outcome handler that `RetractService.deliverDueMail()` gives the transport, and the tally.
///
/// At-least-once with one duplicate at most per lane (one lane per connection): when the
/// server accepted mail i, `outcome(i)`
/// runs the checkpoint of mail i+1 at once — one write transaction that marks mail i sent
/// and checks that mail i+1 may still go out — and `gate(i + 1)` answers from it before
/// mail i+1's content goes out. With PIPELINING mail i+1's envelope already left behind
/// mail i's content, so the commit overlaps the server's work on that envelope, the gate's
/// answer is ready when the server's 354 arrives, and at no moment are two mails accepted
/// and unrecorded.
///
/// The checkpoint is synchronous: the transport calls the gate and the outcome handler on
/// its connection's thread, and a commit there (tens of microseconds) costs less than the
/// thread hand-offs an asynchronous write would add to every mail, on a path where the
/// server waits for the client.
///
/// Revocation: the claim never picks a notification of a revoked grant, and the checkpoint
/// checks the grant again right before the server could accept the notification (before
/// DATA, or with PIPELINING before the content). The check runs in a write transaction, and
/// SQLite serialises write transactions, so a revoke either committed before it — the
/// notification is withheld and cancelled — or commits after it, when the notification is
/// already on its way (its envelope on the wire): the same as a revoke of a mail already
/// delivered, and the same window as the per-mail read before the transport that this
/// replaces, at no extra query.
actor OutboxPass {
    private let service: RetractService
    /// What the pass did so far.
    private(set) var run = DeliveryRun()
    private var mails: [OutboxMailRecord] = []
    /// The mail the server accepted last that no checkpoint has recorded yet.
    private var unconfirmed: String?
    /// What each mail's checkpoint answered, by index: whether it may go out, nil when the
    /// vault could not say.
    private var answers: [Int: Bool?] = [:]

    init(service: RetractService) {
        self.service = service
    }

    /// Starts a batch: `mails` in the order given to the transport.
    func begin(_ mails: [OutboxMailRecord]) {
        self.mails = mails
        self.answers = [:]
    }

    /// Whether mail `index` may be accepted now: its checkpoint's answer.
    func gate(_ index: Int) -> Bool {
        self.checkpoint(index) ?? false
    }

    /// Records what became of mail `index`.
    func outcome(_ index: Int, _ result: Result<Bool, MailError>) {
        let answer = self.answers.removeValue(forKey: index) ?? nil
        let mail = self.mails[index]
        switch result {
        case .success(true):
            self.unconfirmed = mail.id
            // Record it now, while the server reads the next mail's envelope.
            if index + 1 < self.mails.count { _ = self.checkpoint(index + 1) }
        case .success(false):
            if answer == false {
                do {
                    try self.service.vault.cancelMail(mailID: mail.id)
                    self.run.cancelled += 1
                    self.service.countDelivery("cancelled")
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
    func confirmLast() {
        guard let mailID = self.unconfirmed else { return }
        self.unconfirmed = nil
        do {
            _ = try self.service.vault.markDelivered(mailID, at: self.service.now(), thenCheck: nil)
            self.run.delivered += 1
            self.service.countDelivery("delivered", reply: "250")
        } catch {
            self.service.recordUnconfirmed(mailID, error: error, run: &self.run)
        }
    }

    /// The checkpoint of mail `index`, run on first use (a retried mail asks again and gets
    /// the same answer): it records the unconfirmed mail and checks this one.
    private func checkpoint(_ index: Int) -> Bool? {
        if let answer = self.answers[index] { return answer }
        let confirms = self.unconfirmed
        self.unconfirmed = nil
        let answer: Bool?
        do {
            answer = try self.service.vault.markDelivered(confirms, at: self.service.now(), thenCheck: self.mails[index].id)
            if confirms != nil { self.run.delivered += 1; self.service.countDelivery("delivered", reply: "250") }
        } catch {
            if let confirms { self.service.recordUnconfirmed(confirms, error: error, run: &self.run) }
            answer = nil
        }
        self.answers[index] = answer
        return answer
    }

    /// The vault could not answer a checkpoint before a mail's content went out.
    private struct VaultUnavailable: Error, CustomStringConvertible {
        var description: String { "the vault could not record the previous delivery; the mail was held back" }
    }
}
