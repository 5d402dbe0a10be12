import Foundation
import NIOCore
import NIOPosix
import RetractTestSupport
import Testing

@testable import Mail

/// The SMTP client against a real server: aiosmtpd (`Tests/Support/smtp_sink.py`) on a free
/// loopback port, with a CA and certificate made by `openssl` for each test.
@Suite("SMTP transport against aiosmtpd")
struct SMTPTransportTests {
    private static let sender = "retract@localhost"

    private static func message(subject: String = "Quarterly figures", to recipients: [String]) throws -> [UInt8] {
        try MailMessage(
            from: MailAddress(parsing: "Retract <\(Self.sender)>"),
            to: recipients.map { address throws(MailError) in try MailAddress(parsing: address) },
            subject: subject, textBody: "Hello,\n\n.a line that starts with a dot\n\nRetract\n"
        ).rendered()
    }

    /// Runs `body` with a fresh temporary directory, removed afterwards.
    private static func inTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    @Test("a mail reaches the server with the right envelope and parses back with its Chinese subject")
    func plainDelivery() async throws {
        try await Self.inTemporaryDirectory { directory in
            let sink = try await SMTPSink(in: directory)
            defer { sink.stop() }
            let transport = SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)"))
            let subject = "季度报告已更正：请查收 ✓"
            let data = try Self.message(subject: subject, to: ["bob@example.org"])

            try await transport.deliver(
                data,
                envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org", "bcc@example.net"]),
                id: "plain-1")
            await transport.close()

            let received = try sink.received()
            try #require(received.count == 1)
            #expect(received[0].mailFrom == Self.sender)
            #expect(received[0].recipients == ["bob@example.org", "bcc@example.net"])
            let parsed = try ParsedMail(parsing: received[0].data)
            #expect(parsed.header("Subject") == subject)
            #expect(parsed.textBody?.contains("\n.a line that starts with a dot\n") == true)
            #expect(try sink.greetings().count == 1)
        }
    }

    @Test("STARTTLS and AUTH PLAIN with the right password deliver the mail")
    func startTLSWithAuth() async throws {
        try await Self.inTemporaryDirectory { directory in
            let certificates = try SMTPTestCertificates(in: directory)
            let sink = try await SMTPSink(
                ["--starttls", "--auth", "alice:c0rrect horse"] + certificates.sinkOptions, in: directory)
            defer { sink.stop() }
            let configuration = try SMTPConfiguration(
                url: "smtp+starttls://alice:c0rrect%20horse@localhost:\(sink.port)", caFile: certificates.caFile)
            let transport = SMTPTransport(configuration: configuration)

            let report = await transport.deliverReporting(
                try Self.message(to: ["bob@example.org"]),
                envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]), id: "tls-1")
            await transport.close()

            #expect(report.isDelivered, "\(report)")
            #expect(report.dataReply?.code == 250)
            #expect(try sink.received().map(\.recipients) == [["bob@example.org"]])
        }
    }

    @Test("implicit TLS (smtps://) with AUTH LOGIN delivers the mail; an IP host skips SNI but checks the IP SAN")
    func implicitTLSWithLogin() async throws {
        try await Self.inTemporaryDirectory { directory in
            let certificates = try SMTPTestCertificates(in: directory)
            let sink = try await SMTPSink(
                ["--tls", "--auth", "alice:s3cret", "--only-login"] + certificates.sinkOptions, in: directory)
            defer { sink.stop() }
            for host in ["localhost", "127.0.0.1"] {
                let transport = SMTPTransport(
                    configuration: try SMTPConfiguration(
                        url: "smtps://alice:s3cret@\(host):\(sink.port)", caFile: certificates.caFile))
                try await transport.deliver(
                    try Self.message(to: ["bob@example.org"]),
                    envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]), id: "tls-\(host)")
                await transport.close()
            }
            #expect(try sink.received().count == 2)
        }
    }

    @Test("a wrong password fails with a clear authentication error that is not temporary")
    func wrongPassword() async throws {
        try await Self.inTemporaryDirectory { directory in
            let certificates = try SMTPTestCertificates(in: directory)
            let sink = try await SMTPSink(
                ["--starttls", "--auth", "alice:right"] + certificates.sinkOptions, in: directory)
            defer { sink.stop() }
            let transport = SMTPTransport(
                configuration: try SMTPConfiguration(
                    url: "smtp+starttls://alice:wrong-pass@localhost:\(sink.port)", caFile: certificates.caFile))

            let data = try Self.message(to: ["bob@example.org"])
            do throws(MailError) {
                try await transport.deliver(
                    data, envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]), id: "auth-1")
                Issue.record("the delivery succeeded with a wrong password")
            } catch {
                #expect(error == MailError.authenticationFailed)
                #expect(error.description.contains("authentication failed"))
                #expect(error.description.contains("localhost:\(sink.port)"))
                #expect(!error.isTemporary && error.isConfigurationProblem)
                #expect(error.smtpReply?.hasPrefix("535") == true)
                #expect(!error.description.contains("wrong-pass") && !error.description.contains("\n"))
            }
            await transport.close()
            #expect(try sink.received().isEmpty)
        }
    }

    @Test("a certificate from an unknown CA fails with a clear error naming the host")
    func untrustedCertificate() async throws {
        try await Self.inTemporaryDirectory { directory in
            let certificates = try SMTPTestCertificates(in: directory)
            let sink = try await SMTPSink(["--starttls"] + certificates.sinkOptions, in: directory)
            defer { sink.stop() }
            let transport = SMTPTransport(
                configuration: try SMTPConfiguration(url: "smtp+starttls://localhost:\(sink.port)"))

            let report = await transport.deliverReporting(
                try Self.message(to: ["bob@example.org"]),
                envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]), id: "ca-1")
            await transport.close()

            let error = try #require(report.failure)
            #expect(error == MailError.tlsFailed)
            #expect(
                error.description.contains("TLS handshake with localhost:\(sink.port) failed: certificate not trusted"))
            #expect(error.description.contains("RETRACT_SMTP_CA_FILE"))
            #expect(!error.isTemporary && error.isConfigurationProblem)
            #expect(try sink.received().isEmpty)
        }
    }

    @Test("a certificate for another name fails with a host name error")
    func hostnameMismatch() async throws {
        try await Self.inTemporaryDirectory { directory in
            let certificates = try SMTPTestCertificates(in: directory, subjectAltName: "DNS:mail.example.test")
            let sink = try await SMTPSink(["--tls"] + certificates.sinkOptions, in: directory)
            defer { sink.stop() }
            for host in ["localhost", "127.0.0.1"] {
                let transport = SMTPTransport(
                    configuration: try SMTPConfiguration(
                        url: "smtps://\(host):\(sink.port)", caFile: certificates.caFile))
                let error = try #require(
                    await transport.deliverReporting(
                        try Self.message(to: ["bob@example.org"]),
                        envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]), id: "name-1"
                    ).failure)
                await transport.close()
                #expect(error == MailError.tlsFailed, "\(error)")
                #expect(error.description.contains("does not match"), "\(error)")
                #expect(error.description.contains("\(host):\(sink.port)"))
            }
        }
    }

    @Test("a 550 for one recipient fails that recipient only; the others get the mail")
    func oneRecipientRefused() async throws {
        try await Self.inTemporaryDirectory { directory in
            let sink = try await SMTPSink(
                ["--reject", "nobody@example.org", "--defer", "busy@example.org"], in: directory)
            defer { sink.stop() }
            let transport = SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://localhost:\(sink.port)"))
            let envelope = MailEnvelope(
                mailFrom: Self.sender, recipients: ["bob@example.org", "nobody@example.org", "carol@example.org"])
            let data = try Self.message(to: ["bob@example.org"])

            let report = await transport.deliverReporting(data, envelope: envelope, id: "rcpt-1")
            #expect(report.acceptedRecipients == ["bob@example.org", "carol@example.org"])
            #expect(report.recipients[1].outcome.reply?.code == 550)
            #expect(!report.recipients[1].outcome.isTemporary)
            let failure = try #require(report.failure)
            #expect(failure == MailError.rejected && !failure.isTemporary)
            #expect(failure.smtpReply == "550 5.1.1 <nobody@example.org>: no such user")

            await #expect(throws: MailError.rejected) {
                try await transport.deliver(
                    data, envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["busy@example.org"]), id: "rcpt-2")
            }
            let deferred = await transport.deliverReporting(
                data, envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["busy@example.org"]), id: "rcpt-3")
            #expect(deferred.failure?.isTemporary == true)
            // The session survives refusals: the next mail goes through on the same connection.
            try await transport.deliver(
                data, envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["dave@example.org"]), id: "rcpt-4")
            await transport.close()

            #expect(
                try sink.received().map(\.recipients) == [
                    ["bob@example.org", "carol@example.org"], ["dave@example.org"],
                ])
            #expect(try sink.greetings().count == 1)
        }
    }

    @Test("200 mails over one connection all arrive, with and without PIPELINING")
    func manyMailsOneConnection() async throws {
        for options in [["--pipelining"], []] {
            try await Self.inTemporaryDirectory { directory in
                let sink = try await SMTPSink(options, in: directory)
                defer { sink.stop() }
                let transport = SMTPTransport(
                    configuration: try SMTPConfiguration(url: "smtp://localhost:\(sink.port)"))
                let data = try Self.message(to: ["bob@example.org"])
                for index in 0..<200 {
                    try await transport.deliver(
                        data, envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["user\(index)@example.org"]),
                        id: "bulk-\(index)")
                }
                await transport.close()
                let received = try sink.received()
                #expect(received.count == 200)
                #expect(received.map(\.recipients) == (0..<200).map { ["user\($0)@example.org"] })
                #expect(try sink.greetings().count == 1, "options \(options)")
            }
        }
    }

    @Test("a server that refuses EHLO is greeted with HELO and still gets the mail")
    func heloFallback() async throws {
        try await Self.inTemporaryDirectory { directory in
            let sink = try await SMTPSink(["--no-ehlo"], in: directory)
            defer { sink.stop() }
            let transport = SMTPTransport(
                configuration: try SMTPConfiguration(
                    url: "smtp://localhost:\(sink.port)", heloName: "client.example.com"))
            try await transport.deliver(
                try Self.message(to: ["bob@example.org"]),
                envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]), id: "helo-1")
            await transport.close()
            #expect(try sink.greetings() == ["EHLO client.example.com", "HELO client.example.com"])
            #expect(try sink.received().count == 1)
        }
    }

    @Test("connections are renewed after the server restarts, after the idle time and after the per-connection limit")
    func connectionLifecycle() async throws {
        try await Self.inTemporaryDirectory { directory in
            let first = try await SMTPSink(in: directory)
            var configuration = try SMTPConfiguration(url: "smtp://localhost:\(first.port)")
            // Long enough that the suite's parallel load never stretches the gap between two
            // back-to-back deliveries past it, short enough to wait out once below.
            configuration.timeouts.idle = .seconds(2)
            configuration.maximumMessagesPerConnection = 3
            let transport = SMTPTransport(configuration: configuration)
            let data = try Self.message(to: ["bob@example.org"])
            let envelope = MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"])

            try await transport.deliver(data, envelope: envelope, id: "life-1")
            first.stop()
            let second = try await SMTPSink(port: first.port, in: directory)
            defer { second.stop() }
            try await transport.deliver(data, envelope: envelope, id: "life-2")  // the old connection is gone
            try await Task.sleep(for: .seconds(3))  // idle: closed
            for index in 3...6 { try await transport.deliver(data, envelope: envelope, id: "life-\(index)") }
            await transport.close()

            #expect(try first.received().count == 1)
            #expect(try second.received().count == 5)
            // life-2 alone, then life-3…5 (the limit of 3), then life-6.
            #expect(try second.greetings().count == 3)
        }
    }

    @Test("with the server down the delivery fails with a temporary connection error naming it")
    func serverDown() async throws {
        let port = try await Self.unusedPort()
        let transport = SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)"))
        do throws(MailError) {
            try await transport.deliver(
                Array("x".utf8), envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]),
                id: "down-1")
            Issue.record("delivered to nothing")
        } catch {
            #expect(error == MailError.connectionFailed)
            #expect(error.isTemporary && !error.isConfigurationProblem)
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
        await transport.close()
    }

    @Test("a server that accepts the connection but never greets times out")
    func silentServer() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        var configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)")
        configuration.timeouts.greeting = .milliseconds(300)
        let transport = SMTPTransport(configuration: configuration)
        let report = await transport.deliverReporting(
            Array("x".utf8), envelope: MailEnvelope(mailFrom: Self.sender, recipients: ["bob@example.org"]),
            id: "slow-1")
        await transport.close()
        try await server.close()

        let error = try #require(report.failure)
        #expect(error == MailError.timedOut && error.isTemporary)
        #expect(error.description.contains("no reply to the greeting within 300 ms"), "\(error)")
    }

    /// A loopback port with nothing listening (bound, read, released).
    private static func unusedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }
}
