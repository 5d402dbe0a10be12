import NIOCore
import NIOPosix
import NIOSSL

/// Delivers mail to an SMTP server over SwiftNIO: plain, STARTTLS or implicit TLS, with AUTH
/// PLAIN or LOGIN, as `SMTPConfiguration` says.
///
/// One connection is kept open across deliveries, because the outbox worker sends thousands
/// of mails one after another and a new connection (TCP, TLS, EHLO, AUTH) per mail would cost
/// more than the mail. The connection is opened on the first delivery, reused while it works,
/// replaced after a failure or when the server hung up in between, renewed after
/// `maximumMessagesPerConnection` mails, and closed after `timeouts.idle` without a delivery.
/// Deliveries through one transport run one at a time, in call order.
///
/// When a reused connection turns out to be dead before any message data went out, the mail
/// is tried once more on a fresh connection, so a server's idle hang-up never fails a mail.
public actor SMTPTransport: MailTransport {
    /// Where and how mail goes.
    public let configuration: SMTPConfiguration
    /// The one event loop every connection of this transport runs on.
    private let eventLoop: any EventLoop
    private var tlsContext: NIOSSLContext?
    private var connection: SMTPConnection?
    private var mailsOnConnection = 0
    private var lastUse = ContinuousClock.now
    private var idleWatcher: Task<Void, Never>?
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// The event loop group (two threads) transports use unless told otherwise, for the
    /// whole life of the process; each transport takes one of its loops.
    ///
    /// Its own threads rather than NIO's shared loops: the outbox worker records each accepted
    /// mail with a short synchronous commit on the connection's thread (see `deliverInOrder`),
    /// which must not hold up the loops that serve HTTP.
    public static let defaultEventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// Creates a transport; nothing connects until the first delivery.
    public init(
        configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = SMTPTransport.defaultEventLoopGroup
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoopGroup.next()
    }

    /// Delivers the mail to every envelope recipient, or throws.
    ///
    /// Throws unless the server accepted the mail for every recipient: the error is
    /// `SMTPDeliveryReport.failure` (see there; `isTemporary` tells whether to retry,
    /// `isConfigurationProblem` whether the setup rather than the mail is at fault, `smtpReply`
    /// gives the server's words). Use `deliverReporting` to learn recipient by recipient.
    public func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError) {
        let report = await self.deliverReporting(data, envelope: envelope, id: id)
        if let failure = report.failure { throw failure }
    }

    /// Delivers the mail unless `gate` says no at the last moment; see
    /// `MailTransport.deliver(_:envelope:id:gate:)`.
    ///
    /// The gate is asked once the server accepted the envelope (MAIL and RCPT), before DATA;
    /// with PIPELINING, where DATA leaves together with the envelope, after the server's 354,
    /// before the content, which then leaves with its final `.` in one write. So the wait for
    /// the gate overlaps the envelope's round trips. A gate that closes after a 354 costs the
    /// connection: the content is never sent, the connection is dropped (the server discards the unfinished message) and the next mail
    /// opens a new one. The gate may be asked again when the mail is retried on a new
    /// connection, so it must give the same answer each time.
    public func deliver(
        _ data: [UInt8], envelope: MailEnvelope, id: String, gate: @escaping @Sendable () async -> Bool
    ) async throws(MailError) -> Bool {
        let report = await self.deliverReporting(data, envelope: envelope, id: id, gate: gate)
        if report.withheld { return false }
        if let failure = report.failure { throw failure }
        return true
    }

    /// Delivers the mail and reports what became of each recipient; never throws.
    ///
    /// When some recipients are refused the mail still goes to the others. With a `gate`, see
    /// `deliver(_:envelope:id:gate:)`.
    public func deliverReporting(
        _ data: [UInt8], envelope: MailEnvelope, id: String, gate: (@Sendable () async -> Bool)? = nil
    ) async -> SMTPDeliveryReport {
        guard !envelope.recipients.isEmpty else {
            return .failed(
                id: id, server: self.configuration.endpoint, recipients: [],
                error: MailError.missingRecipient.with("mail \(id) has no envelope recipient"))
        }
        await self.acquire()
        defer { self.release() }

        let mail = SMTPMailTransaction(id: id, envelope: envelope, content: data, gated: gate != nil)
        var attempt = await self.attempt(mail, gate: gate)
        if attempt.retryOnNewConnection {
            attempt = await self.attempt(mail, gate: gate, reuse: false)
        }
        self.lastUse = .now
        self.watchIdleConnection()
        return attempt.result
    }

    /// Delivers mails in order over the reused connection; see `MailTransport.deliverInOrder`.
    ///
    /// The mails run as one job on the connection's session, so no mail waits for a hand-off
    /// between tasks, and with PIPELINING each mail's MAIL, RCPT and DATA leave behind the
    /// content of the one before: the server never waits for the client between two mails,
    /// and each mail's content still waits for its gate. The connection is renewed after
    /// `maximumMessagesPerConnection` mails and replaced when it breaks; the mail it broke on
    /// is retried once on a new connection when the old one turned out dead before any of it
    /// went out, and reported failed otherwise.
    ///
    /// `gate` and `outcome` run on the connection's event loop thread, one after another, so a
    /// caller can answer them synchronously without a thread hand-off; they may block briefly
    /// (a database commit), which holds up only this transport's connections.
    public func deliverInOrder(
        _ mails: [(data: [UInt8], envelope: MailEnvelope, id: String)], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        await self.deliverInOrder(
            contents: mails.map { OutboundMail(content: .bytes($0.data), envelope: $0.envelope, id: $0.id) },
            gate: gate, outcome: outcome)
    }

    /// Delivers mails in order like `deliverInOrder(_:gate:outcome:)`; a streamed content is
    /// read from its source while it is written (a fresh reader for every attempt), a piece
    /// at a time behind the socket's backpressure, never whole in memory. A source that fails
    /// part-way fails that mail: its final `.` never goes out and the connection is dropped,
    /// so the server discards the part it read.
    public func deliverInOrder(
        contents mails: [OutboundMail], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, Result<Bool, MailError>) async -> Void
    ) async {
        guard !mails.isEmpty else { return }
        await self.acquire()
        defer { self.release() }
        let transactions = mails.map { SMTPMailTransaction(id: $0.id, envelope: $0.envelope, body: $0.content, gated: true) }
        var index = 0
        var retriedOnNewConnection = false
        while index < transactions.count {
            let connection: SMTPConnection
            let reused: Bool
            switch await self.usableConnection(reuse: true) {
            case .success(let usable):
                (connection, reused) = usable
            case .failure(let error):
                for rest in index..<transactions.count { await outcome(rest, .failure(error)) }
                self.lastUse = .now
                return
            }
            let room = max(1, self.configuration.maximumMessagesPerConnection - self.mailsOnConnection)
            let end = min(transactions.count, index + room)
            let base = index
            let stop = await connection.deliverBatch(
                Array(transactions[index..<end]), gate: { await gate(base + $0) },
                outcome: { await outcome(base + $0, Self.result($1)) })
            self.mailsOnConnection += stop.reported
            index += stop.reported
            if stop.reported > 0 { retriedOnNewConnection = false }
            guard let failure = stop.failure else { continue }
            await self.dropConnection()
            let stale =
                reused && stop.reported == 0 && !failure.contentSent
                && failure.error.map { $0 == MailError.connectionFailed } == true
            if stale && !retriedOnNewConnection {
                retriedOnNewConnection = true
                continue
            }
            retriedOnNewConnection = false
            await outcome(index, Self.result(failure))
            index += 1
        }
        self.lastUse = .now
        self.watchIdleConnection()
    }

    /// A report as `deliverInOrder` announces it.
    private static func result(_ report: SMTPDeliveryReport) -> Result<Bool, MailError> {
        if report.withheld { return .success(false) }
        if let failure = report.failure { return .failure(failure) }
        return .success(true)
    }

    /// Closes the connection (QUIT) if one is open. A later delivery opens a new one.
    public func close() async {
        await self.acquire()
        defer { self.release() }
        await self.dropConnection()
    }

    /// `close()`, as every transport names it.
    public func closeConnections() async {
        await self.close()
    }

    // MARK: - Connections

    private struct Attempt {
        let result: SMTPDeliveryReport
        /// Whether the attempt failed on a reused connection before any message data went out.
        let retryOnNewConnection: Bool
    }

    /// Delivers on the current connection, or a new one; says whether a retry is safe and useful.
    private func attempt(
        _ mail: SMTPMailTransaction, gate: (@Sendable () async -> Bool)?, reuse: Bool = true
    ) async -> Attempt {
        let connection: SMTPConnection
        let reused: Bool
        switch await self.usableConnection(reuse: reuse) {
        case .success(let usable):
            (connection, reused) = usable
        case .failure(let error):
            return Attempt(
                result: .failed(id: mail.id, server: self.configuration.endpoint, recipients: mail.recipients, error: error),
                retryOnNewConnection: false)
        }

        let outcome = await connection.deliver(mail, gate: gate)
        self.mailsOnConnection += 1
        if !outcome.usable {
            await self.dropConnection()
        }
        let stale =
            reused && !outcome.usable && !outcome.report.contentSent
            && outcome.report.error.map { $0 == MailError.connectionFailed } == true
        return Attempt(result: outcome.report, retryOnNewConnection: stale)
    }

    /// The connection to send the next mail on: the open one when it is alive, has room
    /// under `maximumMessagesPerConnection` and `reuse` allows it, otherwise a new one
    /// (the old one is closed first); `reused` tells the caller whether the server may have
    /// dropped it in between, which is worth one retry on a fresh connection.
    private func usableConnection(reuse: Bool) async -> Result<(connection: SMTPConnection, reused: Bool), MailError> {
        if let current = self.connection,
            !reuse || !current.isActive || self.mailsOnConnection >= self.configuration.maximumMessagesPerConnection
        {
            await self.dropConnection()
        }
        if let existing = self.connection { return .success((existing, true)) }
        switch await self.openConnection() {
        case .success(let opened):
            self.connection = opened
            self.mailsOnConnection = 0
            return .success((opened, false))
        case .failure(let error):
            return .failure(error)
        }
    }

    private func openConnection() async -> Result<SMTPConnection, MailError> {
        var sslContext: NIOSSLContext?
        if self.configuration.security != .plain {
            switch self.makeTLSContext() {
            case .success(let context): sslContext = context
            case .failure(let error): return .failure(error)
            }
        }
        return await SMTPConnection.open(
            configuration: self.configuration, sslContext: sslContext, group: self.eventLoop)
    }

    /// The TLS client context, made once: the system trust store plus the CA file, full
    /// certificate and host name verification.
    private func makeTLSContext() -> Result<NIOSSLContext, MailError> {
        if let tlsContext { return .success(tlsContext) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        if let caFile = self.configuration.caFile {
            tls.additionalTrustRoots = [.file(caFile)]
        }
        do {
            let context = try NIOSSLContext(configuration: tls)
            self.tlsContext = context
            return .success(context)
        } catch {
            return .failure(
                MailError.invalidConfiguration.with(
                    "cannot set up TLS for \(self.configuration.endpoint): "
                        + "\(MailError.quote(String(describing: error), limit: 160)); check RETRACT_SMTP_CA_FILE"))
        }
    }

    private func dropConnection() async {
        self.idleWatcher?.cancel()
        self.idleWatcher = nil
        guard let connection = self.connection else { return }
        self.connection = nil
        self.mailsOnConnection = 0
        await connection.close()
    }

    /// Starts the one task that closes the connection once it has been unused for
    /// `timeouts.idle` (one task per connection, not one per mail: the worker's hot path stays
    /// free of task churn).
    private func watchIdleConnection() {
        guard self.connection != nil, self.idleWatcher == nil else { return }
        self.idleWatcher = Task { [weak self] in
            while let deadline = await self?.idleDeadline() {
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled, await self?.closeIfIdle() == false else { return }
            }
        }
    }

    /// When the connection becomes idle if nothing else happens; nil when there is none.
    private func idleDeadline() -> ContinuousClock.Instant? {
        guard self.connection != nil else {
            self.idleWatcher = nil
            return nil
        }
        return self.lastUse + self.configuration.timeouts.idle
    }

    /// Closes the connection when it has idled long enough; true when the watch is over.
    private func closeIfIdle() async -> Bool {
        guard self.connection != nil else {
            self.idleWatcher = nil
            return true
        }
        guard !self.busy, ContinuousClock.now - self.lastUse >= self.configuration.timeouts.idle else { return false }
        self.idleWatcher = nil
        await self.acquire()
        defer { self.release() }
        await self.dropConnection()
        return true
    }

    // MARK: - One delivery at a time

    private func acquire() async {
        guard self.busy else {
            self.busy = true
            return
        }
        await withCheckedContinuation { self.waiting.append($0) }
    }

    private func release() {
        if self.waiting.isEmpty {
            self.busy = false
        } else {
            self.waiting.removeFirst().resume()
        }
    }
}
