import NIOCore
import NIOPosix
import NIOSSL

/// One open SMTP session that takes mails one after another.
///
/// The channel lives inside a task that runs `NIOAsyncChannel.executeThenClose`: it
/// establishes the session, then takes jobs from a stream until the stream ends (the owner
/// closes the connection) or the session breaks, and finally sends QUIT. So the channel is
/// always closed by the code that opened it, and the owner only hands over mails and waits
/// for their reports.
final class SMTPConnection: Sendable {
    /// What one delivery on this connection came to.
    struct Outcome: Sendable {
        /// The per-recipient result.
        let report: SMTPDeliveryReport
        /// Whether the connection can take another mail.
        let usable: Bool
    }

    /// Work for the session: one mail, or a run of gated mails.
    private struct Job: Sendable {
        /// Runs on the session; returns whether the session can take more work.
        let run: @Sendable (inout SMTPConversation) async -> Bool
        /// Answers the job when the session ended before it ran.
        let abandon: @Sendable (MailError) -> Void
    }

    private let jobs: AsyncStream<Job>.Continuation
    private let task: Task<Void, Never>
    private let channel: any Channel
    private let server: String

    private init(jobs: AsyncStream<Job>.Continuation, task: Task<Void, Never>, channel: any Channel, server: String) {
        self.jobs = jobs
        self.task = task
        self.channel = channel
        self.server = server
    }

    deinit {
        self.jobs.finish()
    }

    /// Whether the TCP connection is still open; a server may hang up while the connection idles.
    var isActive: Bool { self.channel.isActive }

    /// Connects, then runs the session up to "ready" (greeting, EHLO, STARTTLS, AUTH).
    static func open(
        configuration: SMTPConfiguration, sslContext: NIOSSLContext?, group: any EventLoopGroup
    ) async -> Result<SMTPConnection, MailError> {
        let timeouts = configuration.timeouts
        let implicitTLS = configuration.security == .implicitTLS
        let serverName = configuration.hostIsIPAddress ? nil : configuration.host
        let asyncChannel: NIOAsyncChannel<SMTPReply, SMTPRequest>
        let handshake: EventLoopFuture<Void>?
        do {
            (asyncChannel, handshake) = try await ClientBootstrap(group: group)
                .connectTimeout(SMTPConfiguration.Timeouts.amount(timeouts.connect))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        var handshake: EventLoopFuture<Void>?
                        if implicitTLS {
                            guard let sslContext else {
                                throw MailError.invalidConfiguration.with("smtps:// needs a TLS context; none was made")
                            }
                            let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                            let waiter = SMTPTLSHandshakeHandler(
                                eventLoop: channel.eventLoop,
                                timeout: SMTPConfiguration.Timeouts.amount(timeouts.greeting))
                            try pipeline.addHandler(tls)
                            try pipeline.addHandler(waiter)
                            handshake = waiter.handshakeCompleted
                        }
                        try pipeline.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        try pipeline.addHandler(MessageToByteHandler(SMTPRequestEncoder()))
                        try pipeline.addHandler(
                            SMTPReplyTracker(
                                greetingTimeout: SMTPConfiguration.Timeouts.amount(timeouts.greeting),
                                replyTimeout: SMTPConfiguration.Timeouts.amount(timeouts.reply),
                                dataEndTimeout: SMTPConfiguration.Timeouts.amount(timeouts.dataEnd)))
                        let asyncChannel = try NIOAsyncChannel<SMTPReply, SMTPRequest>(
                            wrappingChannelSynchronously: channel)
                        return (asyncChannel, handshake)
                    }
                }
        } catch {
            return .failure(SMTPConversation.translate(error, configuration: configuration, duringHandshake: true))
        }

        let (jobStream, jobs) = AsyncStream.makeStream(of: Job.self)
        let (readiness, ready) = AsyncStream.makeStream(of: MailError?.self)
        let session = { @Sendable in
            await Self.runSession(
                asyncChannel, handshake: handshake, configuration: configuration, sslContext: sslContext,
                jobStream: jobStream, jobs: jobs, ready: ready)
        }
        let task: Task<Void, Never>
        if #available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, *) {
            let executor = SMTPEventLoopExecutor(eventLoop: asyncChannel.channel.eventLoop)
            task = Task(executorPreference: executor, operation: session)
        } else {
            task = Task(operation: session)
        }

        var signals = readiness.makeAsyncIterator()
        let signal = await signals.next()
        switch signal {
        case .some(.none):
            return .success(
                SMTPConnection(jobs: jobs, task: task, channel: asyncChannel.channel, server: configuration.endpoint))
        case .some(.some(let error)):
            await task.value
            return .failure(error)
        case .none:
            await task.value
            return .failure(
                MailError.connectionFailed.with("the connection to \(configuration.endpoint) closed at once"))
        }
    }

    /// The session's whole life: establish it, report readiness, take jobs until the stream
    /// ends or the session breaks, say QUIT, close; then fail whatever jobs are still queued.
    private static func runSession(
        _ asyncChannel: NIOAsyncChannel<SMTPReply, SMTPRequest>, handshake: EventLoopFuture<Void>?,
        configuration: SMTPConfiguration, sslContext: NIOSSLContext?, jobStream: AsyncStream<Job>,
        jobs: AsyncStream<Job>.Continuation, ready: AsyncStream<MailError?>.Continuation
    ) async {
        var pending = jobStream.makeAsyncIterator()
        do {
            try await asyncChannel.executeThenClose { inbound, outbound in
                var conversation = SMTPConversation(
                    channel: asyncChannel.channel, inbound: inbound, outbound: outbound,
                    configuration: configuration, sslContext: sslContext)
                if let error = await conversation.establish(handshake: handshake) {
                    ready.yield(error)
                    return
                }
                ready.yield(nil)
                while let job = await pending.next() {
                    guard await job.run(&conversation) else { return }
                }
                if conversation.isReady { await conversation.quit() }
            }
        } catch {
            // Closing failed; the channel is gone either way.
        }
        ready.finish()
        jobs.finish()
        while let job = await pending.next() {
            job.abandon(MailError.connectionFailed.with("the connection to \(configuration.endpoint) was closed"))
        }
    }

    /// Delivers one mail on this session; a gated mail asks `gate` before its content goes out.
    func deliver(_ mail: SMTPMailTransaction, gate: (@Sendable () async -> Bool)? = nil) async -> Outcome {
        let server = self.server
        return await withCheckedContinuation { continuation in
            let job = Job(
                run: { conversation in
                    let (report, usable) = await conversation.deliver(mail, gate: gate)
                    continuation.resume(returning: Outcome(report: report, usable: usable))
                    return usable
                },
                abandon: { error in
                    continuation.resume(
                        returning: Outcome(
                            report: .failed(id: mail.id, server: server, recipients: mail.recipients, error: error),
                            usable: false))
                })
            if case .terminated = self.jobs.yield(job) {
                job.abandon(MailError.connectionFailed.with("the connection to \(server) was closed"))
            }
        }
    }

    /// Delivers a run of gated mails on this session (`SMTPConversation.deliverBatch`).
    func deliverBatch(
        _ mails: [SMTPMailTransaction], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: @escaping @Sendable (Int, SMTPDeliveryReport) async -> Void
    ) async -> SMTPConversation.BatchStop {
        let server = self.server
        return await withCheckedContinuation { continuation in
            let job = Job(
                run: { conversation in
                    let stop = await conversation.deliverBatch(mails, gate: gate, outcome: outcome)
                    continuation.resume(returning: stop)
                    return stop.failure == nil
                },
                abandon: { error in
                    let mail = mails[0]
                    continuation.resume(
                        returning: SMTPConversation.BatchStop(
                            reported: 0,
                            failure: .failed(id: mail.id, server: server, recipients: mail.recipients, error: error)))
                })
            if case .terminated = self.jobs.yield(job) {
                job.abandon(MailError.connectionFailed.with("the connection to \(server) was closed"))
            }
        }
    }

    /// Ends the session with QUIT and waits until the channel is closed.
    func close() async {
        self.jobs.finish()
        await self.task.value
    }
}
