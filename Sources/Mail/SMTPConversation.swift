import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The async half of the client: carries out what `SMTPClientStateMachine` decides over one
/// `NIOAsyncChannel` — writes requests, reads replies, puts TLS on the connection — and
/// turns every failure into a `MailError` that names the server.
///
/// It lives inside `NIOAsyncChannel.executeThenClose`, so it never outlives the channel.
struct SMTPConversation {
    /// Where a run of the machine stopped.
    enum Stop {
        case ready
        case finished(SMTPDeliveryReport)
        case closed
        case failed(MailError, SMTPDeliveryReport?)
    }

    private let channel: any Channel
    private var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    private let writer: NIOAsyncChannelOutboundWriter<SMTPRequest>
    private var machine: SMTPClientStateMachine
    private let configuration: SMTPConfiguration
    private let sslContext: NIOSSLContext?
    private var handshakeDone: Bool
    /// The gate of the mail in flight, asked when the machine says `askGate`.
    private var gate: (@Sendable () async -> Bool)?
    /// The mail after the one in flight, started behind its content when the gate opens.
    private var nextMail: SMTPMailTransaction?

    init(
        channel: any Channel, inbound: NIOAsyncChannelInboundStream<SMTPReply>,
        outbound: NIOAsyncChannelOutboundWriter<SMTPRequest>, configuration: SMTPConfiguration,
        sslContext: NIOSSLContext?
    ) {
        self.channel = channel
        self.replies = inbound.makeAsyncIterator()
        self.writer = outbound
        self.machine = SMTPClientStateMachine(settings: .init(configuration: configuration))
        self.configuration = configuration
        self.sslContext = sslContext
        self.handshakeDone = configuration.security != .implicitTLS
    }

    /// Whether the session can take another mail.
    var isReady: Bool { self.machine.isReady }

    /// Waits for the implicit-TLS handshake when there is one, then runs the session up to
    /// "ready": greeting, EHLO, STARTTLS, AUTH. Returns the error that stopped it, if any.
    mutating func establish(handshake: EventLoopFuture<Void>?) async -> MailError? {
        if let handshake {
            do {
                try await handshake.get()
                self.handshakeDone = true
            } catch {
                return self.translate(error)
            }
        }
        switch await self.run(.awaitReply) {
        case .ready: return nil
        case .failed(let error, _): return error
        case .finished, .closed:
            return MailError.protocolViolation.with(
                "the session with \(self.configuration.endpoint) ended before it was ready")
        }
    }

    /// Runs one mail's transaction; `usable` says whether the session can take another.
    ///
    /// A gated mail (`mail.gated`) asks `gate` once its envelope is accepted, just before the
    /// server could accept the content; `false` withholds it.
    mutating func deliver(
        _ mail: SMTPMailTransaction, gate: (@Sendable () async -> Bool)? = nil
    ) async -> (report: SMTPDeliveryReport, usable: Bool) {
        self.gate = gate
        defer { self.gate = nil }
        switch await self.run(self.machine.startMail(mail)) {
        case .finished(let report):
            return (report, true)
        case .failed(let error, let report):
            let report =
                report
                ?? .failed(id: mail.id, server: self.configuration.endpoint, recipients: mail.recipients, error: error)
            return (report, false)
        case .ready, .closed:
            let error = MailError.protocolViolation.with("the transaction ended without a result")
            return (
                .failed(id: mail.id, server: self.configuration.endpoint, recipients: mail.recipients, error: error),
                false
            )
        }
    }

    /// What became of a run of gated mails on this session.
    struct BatchStop {
        /// How many mails of the run have their final report (given to `outcome`).
        let reported: Int
        /// When the session broke: the report of the mail it broke on (not given to `outcome`).
        let failure: SMTPDeliveryReport?
    }

    /// Delivers gated mails one after another, each announced to `outcome` as soon as the
    /// server answered it; with PIPELINING each mail's envelope goes out behind the content
    /// of the one before (`SMTPClientStateMachine.gateOpened(next:)`).
    ///
    /// `gate(i)` is asked before mail i's content can be accepted, always after
    /// `outcome(i - 1, …)` returned. Stops at the first mail on which the session breaks and
    /// returns its report instead of announcing it, so the owner can decide whether to retry
    /// it on a new connection.
    mutating func deliverBatch(
        _ mails: [SMTPMailTransaction], gate: @escaping @Sendable (Int) async -> Bool,
        outcome: (Int, SMTPDeliveryReport) async -> Void
    ) async -> BatchStop {
        defer {
            self.gate = nil
            self.nextMail = nil
        }
        var index = 0
        var started = false
        while index < mails.count {
            let current = index
            self.gate = { await gate(current) }
            self.nextMail = index + 1 < mails.count ? mails[index + 1] : nil
            let stop = await self.run(started ? .awaitReply : self.machine.startMail(mails[index]))
            switch stop {
            case .finished(let report):
                started = self.machine.hasMailInFlight
                await outcome(index, report)
                index += 1
            case .failed(let error, let report):
                let mail = mails[index]
                return BatchStop(
                    reported: index,
                    failure: report
                        ?? .failed(
                            id: mail.id, server: self.configuration.endpoint, recipients: mail.recipients, error: error))
            case .ready, .closed:
                let mail = mails[index]
                let error = MailError.protocolViolation.with("the transaction ended without a result")
                return BatchStop(
                    reported: index,
                    failure: .failed(
                        id: mail.id, server: self.configuration.endpoint, recipients: mail.recipients, error: error))
            }
        }
        return BatchStop(reported: index, failure: nil)
    }

    /// Sends QUIT and waits for its reply (bounded by the reply timeout).
    mutating func quit() async {
        _ = await self.run(self.machine.quit())
    }

    // MARK: - Driving the machine

    private mutating func run(_ first: SMTPClientStateMachine.Action) async -> Stop {
        var action = first
        while true {
            switch action {
            case .send(let requests):
                if let failure = await self.write(requests) {
                    // The content's source failed part-way: the final `.` never goes out, and
                    // a server discards a message whose connection closes before it (RFC
                    // 5321 §3.8), so nothing incomplete is delivered.
                    self.channel.close(promise: nil)
                    action = self.machine.connectionFailed(failure)
                    continue
                }
                action = await self.nextReply()
            case .awaitReply:
                action = await self.nextReply()
            case .startTLS:
                if let error = await self.startTLS() {
                    action = self.machine.connectionFailed(error)
                } else {
                    action = self.machine.tlsEstablished()
                }
            case .askGateThenSend(let held):
                guard await self.gate?() ?? true else {
                    action = self.machine.gateClosed()
                    continue
                }
                action = self.machine.gateOpened(next: self.nextMail)
                if case .send(let requests) = action { action = .send(held + requests) }
            case .askGate:
                let open = await self.gate?() ?? true
                action = open ? self.machine.gateOpened(next: self.nextMail) : self.machine.gateClosed()
            case .sessionReady:
                return .ready
            case .mailFinished(let report):
                return .finished(report)
            case .closed:
                return .closed
            case .fail(let error, let report):
                return .failed(error, report)
            }
        }
    }

    /// Writes `requests` in order, streamed content piece by piece; returns the source's
    /// error when a streamed message could not be read to its end.
    ///
    /// A write that fails (the peer hung up, a timeout closed the channel) closes the
    /// channel and stops; the reason is then read from the inbound side.
    private func write(_ requests: [SMTPRequest]) async -> MailError? {
        var pending: [SMTPRequest] = []
        pending.reserveCapacity(requests.count)
        for request in requests {
            let content: MailContent
            let terminated: Bool
            switch request {
            case .streamedContent(let streamed): (content, terminated) = (streamed, true)
            case .streamedContentBody(let streamed): (content, terminated) = (streamed, false)
            default:
                pending.append(request)
                continue
            }
            guard await self.send(pending) else { return nil }
            pending = []
            switch await self.stream(content) {
            case .sent(let tail):
                pending.append(.preparedContent(tail))
                if terminated { pending.append(.endOfContent) }
            case .writeFailed:
                return nil
            case .sourceFailed(let error):
                return error
            }
        }
        _ = await self.send(pending)
        return nil
    }

    /// Writes the requests in one go; false (the channel closed) when the write failed.
    private func send(_ requests: [SMTPRequest]) async -> Bool {
        guard !requests.isEmpty else { return true }
        do {
            try await self.writer.write(contentsOf: requests)
            return true
        } catch {
            // The reason is on the inbound side (a timeout, a TLS error, the peer's last
            // reply before it hung up): close, then read what is left.
            self.channel.close(promise: nil)
            return false
        }
    }

    private enum StreamResult {
        /// Every piece went out; the tail (a missing final CRLF) is still to be written.
        case sent(ByteBuffer)
        case writeFailed
        case sourceFailed(MailError)
    }

    /// Reads a streamed message from a fresh reader and writes it prepared for DATA, one
    /// piece at a time: each write waits while the channel is not writable (the socket's
    /// buffer is full), so at most a piece or two is in memory whatever the message's size.
    private func stream(_ content: MailContent) async -> StreamResult {
        guard case .streamed(let source) = content else {
            return .sourceFailed(MailError.deliveryFailed.with("streamed content without a source"))
        }
        let reader: any MailContentReader
        do {
            reader = try source.makeReader()
        } catch {
            return .sourceFailed(error)
        }
        var stuffer = SMTPDotStuffer()
        let allocator = self.channel.allocator
        while true {
            let chunk: [UInt8]?
            do {
                chunk = try reader.nextChunk()
            } catch {
                return .sourceFailed(error)
            }
            guard let chunk else { break }
            guard !chunk.isEmpty else { continue }
            var buffer = allocator.buffer(capacity: chunk.count + chunk.count / 32 + 8)
            stuffer.stuff(chunk, into: &buffer)
            guard await self.send([.preparedContent(buffer)]) else { return .writeFailed }
        }
        var tail = allocator.buffer(capacity: 8)
        stuffer.finish(into: &tail, terminated: false)
        return .sent(tail)
    }

    private mutating func nextReply() async -> SMTPClientStateMachine.Action {
        do {
            guard let reply = try await self.replies.next() else {
                return self.machine.connectionFailed(
                    MailError.connectionFailed.with("\(self.configuration.endpoint) closed the connection"))
            }
            return self.machine.receive(reply)
        } catch {
            return self.machine.connectionFailed(self.translate(error))
        }
    }

    /// Puts TLS under the SMTP handlers after the server's 220 to STARTTLS and waits for the
    /// handshake. The old reply decoder leaves the pipeline: any plaintext byte it still holds
    /// is reported as an error rather than read as if it had come through TLS.
    private mutating func startTLS() async -> MailError? {
        guard let sslContext = self.sslContext else {
            return MailError.invalidConfiguration.with("STARTTLS without a TLS context")
        }
        let serverName = self.configuration.hostIsIPAddress ? nil : self.configuration.host
        let timeout = SMTPConfiguration.Timeouts.amount(self.configuration.timeouts.greeting)
        let channel = self.channel
        do {
            let handshake = try await channel.eventLoop.submit {
                let pipeline = channel.pipeline.syncOperations
                let oldDecoder = try pipeline.handler(type: ByteToMessageHandler<SMTPReplyDecoder>.self)
                let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                let waiter = SMTPTLSHandshakeHandler(eventLoop: channel.eventLoop, timeout: timeout)
                try pipeline.addHandler(tls, position: .first)
                try pipeline.addHandler(waiter, position: .after(tls))
                try pipeline.addHandler(ByteToMessageHandler(SMTPReplyDecoder()), position: .after(waiter))
                pipeline.removeHandler(oldDecoder, promise: nil)
                return waiter.handshakeCompleted
            }.get()
            try await handshake.get()
            self.handshakeDone = true
            return nil
        } catch {
            return self.translate(error)
        }
    }

    // MARK: - Errors

    /// Any error from NIO, NIOSSL or the SMTP handlers as a one-line `MailError` naming the server.
    func translate(_ error: any Error) -> MailError {
        Self.translate(error, configuration: self.configuration, duringHandshake: !self.handshakeDone)
    }

    /// See `translate(_:)`; also used for connect errors, before a conversation exists.
    static func translate(_ error: any Error, configuration: SMTPConfiguration, duringHandshake: Bool) -> MailError {
        let server = configuration.endpoint
        switch error {
        case let error as MailError:
            return error
        case let timeout as SMTPReplyTracker.Timeout:
            return MailError.timedOut.with("\(server) sent \(timeout.description)")
        case let unsolicited as SMTPReplyTracker.UnsolicitedReply:
            return MailError.protocolViolation.with(
                "\(server): \(unsolicited.description)", reply: unsolicited.reply.description)
        case let decoding as SMTPReplyDecoder.DecodingError:
            return MailError.protocolViolation.with("\(server): \(decoding.description)")
        case let encoding as SMTPRequestEncoder.EncodingError:
            return MailError.deliveryFailed.with("\(encoding.description)", reply: nil, temporary: false)
        case let timeout as SMTPTLSHandshakeHandler.Timeout:
            return MailError.tlsFailed.with(
                "TLS handshake with \(server) failed: \(timeout.description)", reply: nil, temporary: true)
        case is SMTPTLSHandshakeHandler.ClosedDuringHandshake:
            return MailError.tlsFailed.with(
                "TLS handshake with \(server) failed: the server closed the connection", reply: nil, temporary: true)
        case let error as NIOSSLExtraError:
            return Self.tlsFailure(error, configuration: configuration)
        case let error as NIOSSLError:
            if case .uncleanShutdown = error, !duringHandshake {
                return MailError.connectionFailed.with("\(server) closed the connection")
            }
            return Self.tlsFailure(error, configuration: configuration)
        case is BoringSSLError:
            return Self.tlsFailure(error, configuration: configuration)
        case let error as ChannelError:
            switch error {
            case .connectTimeout(let limit):
                return MailError.timedOut.with(
                    "cannot connect to \(server) within \(SMTPConfiguration.Timeouts.describe(limit))")
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return MailError.connectionFailed.with("\(server) closed the connection")
            default:
                return MailError.connectionFailed.with("connection to \(server) failed: \(error)")
            }
        case let error as NIOConnectionError:
            let reasons = error.connectionErrors.map { Self.reason($0.error) }
            let reason =
                error.dnsAAAAError != nil && error.dnsAError != nil
                ? "the host name does not resolve"
                : Set(reasons).sorted().joined(separator: ", ")
            return MailError.connectionFailed.with(
                "cannot connect to \(server): \(reason.isEmpty ? "no address to try" : reason)")
        case let error as IOError:
            return MailError.connectionFailed.with("connection to \(server) failed: \(Self.reason(error))")
        default:
            return MailError.connectionFailed.with(
                "connection to \(server) failed: \(MailError.quote(String(describing: error), limit: 160))")
        }
    }

    /// A short reason for a socket error: the C library's text for its errno ("Connection refused").
    private static func reason(_ error: any Error) -> String {
        guard let error = error as? IOError else { return MailError.quote(String(describing: error), limit: 120) }
        return String(cString: strerror(error.errnoCode))
    }

    /// A TLS failure as a `MailError`: certificate and name problems are configuration
    /// problems (not temporary); a handshake broken by the network is temporary.
    private static func tlsFailure(_ error: any Error, configuration: SMTPConfiguration) -> MailError {
        let prefix = "TLS handshake with \(configuration.endpoint) failed"
        let text = String(describing: error)
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            let hint =
                configuration.hostIsIPAddress
                ? "its subjectAltName lacks the IP address \(configuration.host)"
                : "it is not valid for the name \(configuration.host)"
            return MailError.tlsFailed.with(
                "\(prefix): the server's certificate does not match the host: \(hint)", reply: nil,
                temporary: false, configurationProblem: true)
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            let trusted =
                configuration.caFile.map { "by the system store nor by \(MailError.quote($0, limit: 200))" }
                ?? "(set RETRACT_SMTP_CA_FILE to the CA that signed it)"
            return MailError.tlsFailed.with(
                "\(prefix): certificate not trusted \(trusted)", reply: nil, temporary: false,
                configurationProblem: true)
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG")
            || text.contains("HTTP_REQUEST")
        {
            return MailError.tlsFailed.with(
                "\(prefix): the server does not speak TLS there (smtps:// is for ports like 465, "
                    + "smtp+starttls:// for ports like 587)", reply: nil, temporary: false, configurationProblem: true)
        }
        if let sslError = error as? NIOSSLError, case .uncleanShutdown = sslError {
            return MailError.tlsFailed.with(
                "\(prefix): the server closed the connection", reply: nil, temporary: true)
        }
        let reason = Self.boringSSLReason(text) ?? MailError.quote(text, limit: 120)
        return MailError.tlsFailed.with(
            "\(prefix): \(reason)", reply: nil, temporary: false, configurationProblem: true)
    }

    /// The reason code at the end of a BoringSSL error (`…:OPENSSL_internal:NO_SHARED_CIPHER`).
    private static func boringSSLReason(_ text: String) -> String? {
        guard let range = text.range(of: "OPENSSL_internal:") else { return nil }
        let reason = text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return reason.isEmpty ? nil : String(reason)
    }
}
