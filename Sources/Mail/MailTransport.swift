/// Hands rendered mail to the outside world: the file outbox, later SMTP.
///
/// Delivery is at least once: the outbox worker retries after a failure, so a transport
/// should make delivering the same `id` twice harmless where it can.
public protocol MailTransport: Sendable {
    /// Delivers one rendered message (`MailMessage.rendered()`); `id` identifies the delivery
    /// (the outbox row) and is `[A-Za-z0-9_-]{1,64}`.
    func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError)

    /// Delivers one rendered message unless `gate` answers `false`; returns whether it was
    /// delivered (`false`: withheld, nothing of it accepted by the server).
    ///
    /// The gate is asked at the last moment before the server could accept the message, so
    /// a caller can overlap its own work (recording the previous delivery, re-checking that
    /// this one may still go out) with the start of the exchange, and still decide before
    /// anything is accepted. The default asks the gate, then calls `deliver(_:envelope:id:)`.
    /// The gate may be asked more than once (a retry on a new connection) and must give the
    /// same answer each time.
    func deliver(
        _ data: [UInt8], envelope: MailEnvelope, id: String, gate: @escaping @Sendable () async -> Bool
    ) async throws(MailError) -> Bool

    /// Delivers mails in order, each behind its gate, and announces each one's result as soon
    /// as it is known: `true` delivered, `false` withheld by its gate, or the error.
    ///
    /// `gate(i)` is asked at the last moment before the server could accept mail i, and
    /// never before `outcome(i - 1, …)` returned; `outcome` is called once per mail, in order.
    /// A transport may overlap a mail's exchange with the one before (SMTP with PIPELINING
    /// sends mail i's envelope behind mail i-1's content), so a caller that records each
    /// delivery in `outcome` and waits for that record in the next gate keeps at most one
    /// mail accepted and unrecorded. The default delivers one by one.
    func deliverInOrder(
        _ mails: [(data: [UInt8], envelope: MailEnvelope, id: String)], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async

    /// Delivers mails whose content may be streamed (`MailContent.streamed`), in order, with
    /// the same gate and outcome rules as `deliverInOrder(_:gate:outcome:)`.
    ///
    /// A transport that can send a message piece by piece (SMTP) reads a streamed content
    /// from its source while it writes it, so a 100 MiB pass-through copy never sits in
    /// memory whole. The default reads each streamed content into memory and hands runs of
    /// mails to `deliverInOrder(_:gate:outcome:)`; a content whose source fails is that
    /// mail's failure.
    func deliverInOrder(
        contents mails: [OutboundMail], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async

    /// How many `deliverInOrder` runs the transport carries at once (its connections); the
    /// outbox worker runs that many delivery lanes. 1 by default.
    var deliveryLanes: Int { get }

    /// Closes whatever connections the transport keeps open; a later delivery opens new ones.
    /// Nothing to do by default.
    func closeConnections() async
}

extension MailTransport {
    /// One lane.
    public var deliveryLanes: Int { 1 }

    /// Nothing to close.
    public func closeConnections() async {}

    /// Asks the gate, then delivers: for transports with no exchange to overlap.
    public func deliver(
        _ data: [UInt8], envelope: MailEnvelope, id: String, gate: @escaping @Sendable () async -> Bool
    ) async throws(MailError) -> Bool {
        guard await gate() else { return false }
        try await self.deliver(data, envelope: envelope, id: id)
        return true
    }

    /// Reads streamed contents into memory, then delivers runs of mails through
    /// `deliverInOrder(_:gate:outcome:)`; see the requirement.
    public func deliverInOrder(
        contents mails: [OutboundMail], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        var run: [(data: [UInt8], envelope: MailEnvelope, id: String)] = []
        var runStart = 0
        func flush() async {
            guard !run.isEmpty else { return }
            let base = runStart
            await self.deliverInOrder(run, gate: { await gate(base + $0) }, outcome: { await outcome(base + $0, $1) })
            run = []
        }
        for (index, mail) in mails.enumerated() {
            do {
                let data = try mail.content.materialized()
                if run.isEmpty { runStart = index }
                run.append((data, mail.envelope, mail.id))
            } catch {
                await flush()
                await outcome(index, .failure(error))
            }
        }
        await flush()
    }

    /// Delivers one by one through `deliver(_:envelope:id:gate:)`.
    public func deliverInOrder(
        _ mails: [(data: [UInt8], envelope: MailEnvelope, id: String)], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        for (index, mail) in mails.enumerated() {
            do {
                let delivered = try await self.deliver(
                    mail.data, envelope: mail.envelope, id: mail.id, gate: { await gate(index) })
                await outcome(index, .success(delivered))
            } catch {
                await outcome(index, .failure(error))
            }
        }
    }
}
