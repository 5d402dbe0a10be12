/// Several transports of one kind used side by side: SMTP over a few connections at once.
///
/// An SMTP server spends most of a mail's time on its own work (storing it, answering each
/// command), and over one connection it sits idle whenever it waits for the client. With
/// two connections it serves one while the client answers the other, so the outbox worker
/// runs one delivery lane per member (`deliveryLanes`). Each member keeps its own connection
/// and its own promise of at most one accepted-but-unrecorded mail, so a crash duplicates at
/// most one mail per connection.
///
/// A delivery takes the first free member, or waits for one. Deliveries one after another
/// therefore all use the first member, as a single transport would.
public actor MailTransportPool: MailTransport {
    private let members: [any MailTransport]
    private var busy: [Bool]
    private var waiting: [CheckedContinuation<Int, Never>] = []

    /// A pool of `members`; there must be at least one.
    public init(_ members: [any MailTransport]) {
        precondition(!members.isEmpty, "a transport pool needs at least one member")
        self.members = members
        self.busy = Array(repeating: false, count: members.count)
    }

    /// One lane per member.
    public nonisolated var deliveryLanes: Int { self.members.count }

    /// Delivers through a free member.
    public func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError) {
        let member = await self.acquire()
        defer { self.release(member) }
        try await self.members[member].deliver(data, envelope: envelope, id: id)
    }

    /// Delivers through a free member, behind the gate.
    public func deliver(
        _ data: [UInt8], envelope: MailEnvelope, id: String, gate: @escaping @Sendable () async -> Bool
    ) async throws(MailError) -> Bool {
        let member = await self.acquire()
        defer { self.release(member) }
        return try await self.members[member].deliver(data, envelope: envelope, id: id, gate: gate)
    }

    /// Delivers the run in order through one free member.
    public func deliverInOrder(
        _ mails: [(data: [UInt8], envelope: MailEnvelope, id: String)], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        let member = await self.acquire()
        defer { self.release(member) }
        await self.members[member].deliverInOrder(mails, gate: gate, outcome: outcome)
    }

    /// Delivers the run in order through one free member, streamed contents streamed.
    public func deliverInOrder(
        contents mails: [OutboundMail], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        let member = await self.acquire()
        defer { self.release(member) }
        await self.members[member].deliverInOrder(contents: mails, gate: gate, outcome: outcome)
    }

    /// Closes every member's connections.
    public func closeConnections() async {
        for member in self.members { await member.closeConnections() }
    }

    private func acquire() async -> Int {
        if let free = self.busy.firstIndex(of: false) {
            self.busy[free] = true
            return free
        }
        return await withCheckedContinuation { self.waiting.append($0) }
    }

    /// Hands the member to the longest waiter, or marks it free.
    private func release(_ member: Int) {
        if self.waiting.isEmpty {
            self.busy[member] = false
        } else {
            self.waiting.removeFirst().resume(returning: member)
        }
    }
}
