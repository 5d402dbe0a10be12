import Foundation
import Logging
import NIOCore

extension SMTPServer {
    /// One connection's conversation: the state machine decides, this performs its actions.
    func converse(over connection: NIOAsyncChannel<SMTPServerInput, SMTPServerReply>) async {
        let peer = connection.channel.remoteAddress?.ipAddress ?? ""
        let settings = SMTPServerStateMachine.Settings(
            hostname: self.configuration.hostname, maximumMessageSize: self.configuration.maximumMessageSize,
            maximumRecipients: self.configuration.maximumRecipients, tlsAvailable: self.tlsContext != nil,
            authenticationAvailable: self.configuration.authenticationEnabled, clientAddress: peer,
            clientTrusted: self.configuration.trustedNetworks.contains { $0.contains(peer) },
            clientLoopback: SMTPNetwork.isLoopback(peer), localRecipient: self.configuration.localRecipient)
        var machine = SMTPServerStateMachine(settings: settings)
        var spool: SMTPContentSpool?
        var stored: (file: URL, size: Int64)?
        // The emptied file of the connection's last message, for its next one.
        var reusable: URL?
        defer {
            spool?.discard()
            if let reusable { unlink(reusable.path) }
        }
        let logger = self.logger
        do {
            try await connection.executeThenClose { inbound, outbound in
                var next: SMTPServerStateMachine.Action? = machine.greeting()
                var inputs = inbound.makeAsyncIterator()
                while true {
                    while let action = next {
                        next = nil
                        switch action {
                        case .reply(let reply):
                            try await outbound.write(reply)
                        case .startContent(let reply):
                            spool = try? SMTPContentSpool(
                                directory: self.configuration.spoolDirectory,
                                limit: self.configuration.maximumMessageSize, reusing: reusable)
                            reusable = nil
                            try await outbound.write(reply)
                        case .startTLS(let reply):
                            // The framing handler puts TLS on the connection behind this reply.
                            try await outbound.write(reply)
                            machine.tlsEstablished()
                        case .authenticate(let username, let password):
                            let outcome = await self.acceptor.verifyCredentials(
                                username: username, password: password, client: peer)
                            next = machine.authenticated(outcome)
                        case .handOver(let envelope):
                            guard let content = stored else {
                                next = machine.contentLost()
                                continue
                            }
                            let message = SMTPReceivedMessage(
                                mailFrom: envelope.mailFrom, recipients: envelope.recipients, file: content.file,
                                size: content.size, client: envelope.client)
                            let acceptance = await self.acceptor.accept(message)
                            logger.info(
                                "SMTP message received",
                                metadata: [
                                    "client": "\(peer)", "size": "\(content.size)",
                                    "recipients": "\(envelope.recipients.count)", "answer": "\(acceptance)",
                                ])
                            reusable = spool?.release()
                            spool = nil
                            stored = nil
                            next = machine.accepted(acceptance)
                        case .close(let reply):
                            try await outbound.write(reply)
                            return
                        }
                    }
                    guard let input = try await inputs.next() else { return }
                    switch input {
                    case .line(let line): next = machine.receive(line: line)
                    case .lineTooLong: next = machine.lineTooLong()
                    case .content(let chunk): spool?.append(chunk)
                    case .contentEnd:
                        switch spool?.finish() {
                        case .stored(let file, let size)?:
                            stored = (file, size)
                            next = machine.contentEnded(exceededLimit: false)
                        case .tooLarge?:
                            spool = nil
                            next = machine.contentEnded(exceededLimit: true)
                        case .failed(let error)?:
                            logger.error("cannot store a received message", metadata: ["error": "\(error)"])
                            spool = nil
                            next = machine.contentLost()
                        case nil:
                            logger.error("cannot store a received message: the spool file could not be created")
                            next = machine.contentLost()
                        }
                    case .idleTimeout: next = machine.timedOut()
                    case .shutdown: next = machine.shuttingDown()
                    }
                }
            }
        } catch {
            logger.debug("SMTP session ended", metadata: ["client": "\(peer)", "error": "\(error)"])
        }
    }
}
