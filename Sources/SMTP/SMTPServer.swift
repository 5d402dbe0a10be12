import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Retract's SMTP server: listens on `host:port`, holds one conversation per connection
/// (`SMTPServerStateMachine` over the framing handlers), and hands each complete message to
/// its `SMTPMessageAcceptor` before it answers the final dot.
///
/// A `Service`: `run()` returns after a graceful shutdown (the ServiceGroup's, or task
/// cancellation, which closes at once). On graceful shutdown it stops accepting, lets each
/// session finish its current command (a message being received is received and handed
/// over) and answer 421 before its next, and closes whatever is still open after
/// `shutdownGracePeriod`.
public final class SMTPServer: Service, Sendable {
    let configuration: SMTPServerConfiguration
    let acceptor: any SMTPMessageAcceptor
    private let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let tlsContext: NIOSSLContext?
    private let state = NIOLockedValueBox(State())

    private struct State {
        var address: Result<SocketAddress, SMTPServerError>?
        var addressWaiters: [CheckedContinuation<SocketAddress, any Error>] = []
        var sessions: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
    }

    /// A server that hands what it receives to `acceptor`. Throws when the configuration
    /// cannot work or the TLS certificate or key cannot be read.
    public init(
        configuration: SMTPServerConfiguration, acceptor: some SMTPMessageAcceptor,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "retract.smtp")
    ) throws(SMTPServerError) {
        try configuration.validate()
        self.configuration = configuration
        self.acceptor = acceptor
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        if let tls = configuration.tls {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map {
                    NIOSSLCertificateSource.certificate($0)
                }
                let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
                let settings = TLSConfiguration.makeServerConfiguration(
                    certificateChain: chain, privateKey: .privateKey(key))
                self.tlsContext = try NIOSSLContext(configuration: settings)
            } catch {
                throw SMTPServerError.invalidConfiguration.with(
                    "cannot use the TLS certificate \(tls.certificateChainPath) and key \(tls.privateKeyPath): \(error)"
                )
            }
        } else {
            self.tlsContext = nil
        }
    }

    /// The address the server listens on, once it does (the port when configured as 0);
    /// throws `notListening` when `run()` failed to bind or ended.
    public func listeningAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let known = self.state.withLockedValue { state -> Result<SocketAddress, SMTPServerError>? in
                if let address = state.address { return address }
                state.addressWaiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(with: known) }
        }
    }

    /// Serves until a graceful shutdown or cancellation; throws when it cannot bind.
    public func run() async throws {
        do {
            try self.prepareSpoolDirectory()
            let server = try await self.bind()
            guard let address = server.channel.localAddress else {
                server.channel.close(promise: nil)
                throw SMTPServerError.notListening.with("the listening socket has no address")
            }
            self.publish(.success(address))
            self.logger.info("SMTP server listening", metadata: ["address": "\(address)"])
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await self.serve(server)
                } onGracefulShutdown: {
                    self.logger.info("SMTP server shutting down")
                    server.channel.close(promise: nil)
                }
            } onCancel: {
                server.channel.close(promise: nil)
                self.closeAllSessions()
            }
            self.publish(.failure(SMTPServerError.notListening.with("the server has stopped")))
        } catch {
            self.publish(.failure(SMTPServerError.notListening.with("\(error)")))
            throw error
        }
    }

    private func prepareSpoolDirectory() throws(SMTPServerError) {
        do {
            try FileManager.default.createDirectory(
                at: self.configuration.spoolDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw SMTPServerError.spoolFailed.with("cannot create \(self.configuration.spoolDirectory.path): \(error)")
        }
    }

    private func bind() async throws -> NIOAsyncChannel<NIOAsyncChannel<SMTPServerInput, SMTPServerReply>, Never> {
        let timeout = TimeAmount(self.configuration.commandTimeout)
        let tlsContext = self.tlsContext
        return try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: self.configuration.host, port: self.configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPServerFramingHandler(idleTimeout: timeout, tlsContext: tlsContext))
                    return try NIOAsyncChannel<SMTPServerInput, SMTPServerReply>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Accepts connections until the listening channel closes, then winds the sessions down.
    private func serve(_ server: NIOAsyncChannel<NIOAsyncChannel<SMTPServerInput, SMTPServerReply>, Never>) async throws
    {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    let admitted = self.admit(connection.channel)
                    group.addTask {
                        if admitted {
                            await self.converse(over: connection)
                            self.release(connection.channel)
                        } else {
                            await self.refuse(connection)
                        }
                    }
                }
            }
            let remaining = self.state.withLockedValue { state in
                state.shuttingDown = true
                return Array(state.sessions.values)
            }
            for channel in remaining {
                channel.triggerUserOutboundEvent(SMTPServerShutdownRequest(), promise: nil)
            }
            let grace = self.configuration.shutdownGracePeriod
            group.addTask {
                // Ends at the deadline, or as soon as the last session is gone.
                let deadline = ContinuousClock.now + grace
                while ContinuousClock.now < deadline {
                    if self.state.withLockedValue({ $0.sessions.isEmpty }) { return }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                self.closeAllSessions()
            }
        }
    }

    /// How many sessions are open now.
    var activeSessionCount: Int { self.state.withLockedValue { $0.sessions.count } }

    private func admit(_ channel: any Channel) -> Bool {
        self.state.withLockedValue { state in
            guard !state.shuttingDown, state.sessions.count < self.configuration.maximumConnections else {
                return false
            }
            state.sessions[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    private func release(_ channel: any Channel) {
        _ = self.state.withLockedValue { $0.sessions.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    private func closeAllSessions() {
        for channel in self.state.withLockedValue({ Array($0.sessions.values) }) {
            channel.close(promise: nil)
        }
    }

    /// A connection beyond the limit (or during shutdown): 421, closed.
    private func refuse(_ connection: NIOAsyncChannel<SMTPServerInput, SMTPServerReply>) async {
        do {
            try await connection.executeThenClose { _, outbound in
                try await outbound.write(
                    SMTPServerReply(
                        421, "4.3.2", "\(self.configuration.hostname) Too many connections, try again later"))
            }
        } catch {
            self.logger.debug("refusing a connection failed", metadata: ["error": "\(error)"])
        }
    }

    private func publish(_ result: Result<SocketAddress, SMTPServerError>) {
        let waiters = self.state.withLockedValue { state -> [CheckedContinuation<SocketAddress, any Error>] in
            if case .success = state.address, case .failure = result {
                state.address = result
            } else if state.address == nil {
                state.address = result
            } else {
                return []
            }
            defer { state.addressWaiters = [] }
            return state.addressWaiters
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }
}
