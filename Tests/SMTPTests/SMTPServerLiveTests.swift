import Foundation
import RetractTestSupport
import NIOCore
import ServiceLifecycle
import Testing

@testable import SMTP

/// An acceptor that keeps a copy of every message and answers as told.
actor RecordingAcceptor: SMTPMessageAcceptor {
    struct Received: Sendable {
        var message: SMTPReceivedMessage
        var bytes: Data
    }

    private(set) var received: [Received] = []
    private(set) var authentications: [String] = []
    var answer = SMTPAcceptance.accepted("queued")

    func accept(_ message: SMTPReceivedMessage) async -> SMTPAcceptance {
        let bytes = (try? Data(contentsOf: message.file)) ?? Data()
        self.received.append(Received(message: message, bytes: bytes))
        return self.answer
    }

    func authenticate(username: String, password: String, client: String) async -> String? {
        self.authentications.append(username)
        return username == "alice@corp.test" && password == "right horse" ? "alice@corp.test" : nil
    }
}

@Suite("SMTP server, live", .serialized, .timeLimit(.minutes(2)))
struct SMTPServerLiveTests {
    /// A running server on 127.0.0.1 with a free port, for the length of `body`.
    static func withServer(
        configure: (inout SMTPServerConfiguration) throws -> Void = { _ in },
        _ body: (_ port: Int, _ acceptor: RecordingAcceptor, _ server: SMTPServer, _ spool: URL) async throws -> Void
    ) async throws {
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-live-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: spool) }
        var configuration = SMTPServerConfiguration(
            host: "127.0.0.1", port: 0, hostname: "gw.test", spoolDirectory: spool)
        try configure(&configuration)
        let acceptor = RecordingAcceptor()
        let server = try SMTPServer(configuration: configuration, acceptor: acceptor)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress().port ?? 0
            try await body(port, acceptor, server, spool)
            group.cancelAll()
            try? await group.waitForAll()
        }
    }

    /// Runs a Python 3 script (its standard library only) with the arguments; its standard output.
    static func python(_ script: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.runSafely() } catch { continuation.resume(throwing: error) }
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status == 0, "python failed: \(text)")
        return text
    }

    /// Waits until every session has ended (connections closed and cleaned up).
    static func sessionsEnded(_ server: SMTPServer) async throws {
        while server.activeSessionCount > 0 { try await Task.sleep(for: .milliseconds(20)) }
    }

    /// A raw-socket client: sends each argument after reading the previous replies; `@close`
    /// drops the connection; prints every reply line.
    static let rawClient = #"""
        import socket, sys
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        f = s.makefile("rb")
        def reply():
            while True:
                line = f.readline().decode()
                print(line.rstrip("\r\n"), flush=True)
                if len(line) < 4 or line[3] != "-":
                    return line
        reply()
        for chunk in sys.argv[2:]:
            if chunk == "@close":
                s.close()
                sys.exit(0)
            expected, data = chunk.split("|", 1)
            s.sendall(data.encode().decode("unicode_escape").encode("latin-1"))
            for _ in range(int(expected)):
                if not reply():
                    sys.exit(0)
        """#

    static func codes(_ output: String) -> [Int] {
        output.split(separator: "\n").compactMap { line in
            line.count >= 4 && line[line.index(line.startIndex, offsetBy: 3)] == " " ? Int(line.prefix(3)) : nil
        }
    }

    @Test("a message for two recipients sent with smtplib arrives byte-identical, dot-stuffing removed")
    func smtplibTwoRecipients() async throws {
        try await Self.withServer { port, acceptor, server, spool in
            let output = try await Self.python(
                #"""
                import smtplib, sys
                message = (b"From: Alice <alice@corp.test>\r\nTo: bob@other.test\r\nCc: carol@corp.test\r\n"
                           b"Subject: hello\r\n\r\n.a line with a leading dot\r\n..two dots\r\n.\r\n"
                           b"caf\xc3\xa9 8-bit\r\nlast line\r\n")
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as client:
                    client.ehlo("mx.corp.test")
                    print(" ".join(sorted(client.esmtp_features)))
                    refused = client.sendmail("alice@corp.test", ["bob@other.test", "carol@corp.test"], message,
                                              mail_options=["BODY=8BITMIME", "SIZE=%d" % len(message)])
                    print("refused", refused)
                sys.stdout.buffer.write(message)
                """#, ["\(port)"])
            #expect(output.contains("pipelining"))
            #expect(output.contains("size"))
            #expect(output.contains("refused {}"))
            let received = await acceptor.received
            #expect(received.count == 1)
            let expected =
                "From: Alice <alice@corp.test>\r\nTo: bob@other.test\r\nCc: carol@corp.test\r\nSubject: hello\r\n\r\n"
                + ".a line with a leading dot\r\n..two dots\r\n.\r\ncafé 8-bit\r\nlast line\r\n"
            #expect(received.first?.bytes == Data(expected.utf8))
            #expect(received.first?.message.size == Int64(expected.utf8.count))
            #expect(received.first?.message.mailFrom == "alice@corp.test")
            #expect(received.first?.message.recipients == ["bob@other.test", "carol@corp.test"])
            #expect(received.first?.message.client.heloName == "mx.corp.test")
            #expect(received.first?.message.client.address == "127.0.0.1")
            try await Self.sessionsEnded(server)
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: spool.path).isEmpty,
                "the content file is removed after the hand-over")
        }
    }

    @Test("a connection reuses one content file: emptied after each hand-over, never mixing messages, removed at the end")
    func contentFileReused() async throws {
        try await Self.withServer { port, acceptor, server, spool in
            // Given one connection that sends a long message, then a short one
            let output = try await Self.python(
                #"""
                import os, smtplib, sys
                spool = sys.argv[2]
                long = b"Subject: one\r\n\r\n" + b"the first message, line after line\r\n" * 400
                short = b"Subject: two\r\n\r\nshort\r\n"
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as client:
                    client.sendmail("alice@corp.test", ["bob@other.test"], long)
                    print("between", sorted(os.path.getsize(os.path.join(spool, n)) for n in os.listdir(spool)))
                    client.sendmail("alice@corp.test", ["bob@other.test"], short)
                """#, ["\(port)", spool.path])

            // Then both were handed over in the same file, each exactly as sent
            let received = await acceptor.received
            #expect(received.count == 2)
            #expect(received.first?.message.file == received.last?.message.file)
            #expect(received.last?.bytes == Data("Subject: two\r\n\r\nshort\r\n".utf8))
            #expect(received.first?.bytes.count == 16 + 400 * 36)
            // Between the messages the file was there but empty: no message waits on disk
            #expect(output.contains("between [0]"), "\(output)")
            // And after the session nothing is left
            try await Self.sessionsEnded(server)
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path).isEmpty)
        }
    }

    @Test("a message of several MiB with lines longer than 64 KiB arrives byte-identical")
    func largeMessage() async throws {
        let expected = FileManager.default.temporaryDirectory.appendingPathComponent(
            "smtp-big-\(UUID().uuidString).eml")
        defer { try? FileManager.default.removeItem(at: expected) }
        try await Self.withServer { port, acceptor, _, _ in
            _ = try await Self.python(
                #"""
                import smtplib, sys
                lines = [b"Subject: big", b""] + [(b".%d " % i) * 7 for i in range(60000)] + [b"x" * 200000, b"end"]
                message = b"\r\n".join(lines) + b"\r\n"
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as client:
                    client.sendmail("alice@corp.test", ["bob@other.test"], message)
                open(sys.argv[2], "wb").write(message)
                """#, ["\(port)", expected.path])
            let received = await acceptor.received
            #expect(received.count == 1)
            #expect(received.first?.bytes == (try Data(contentsOf: expected)))
            #expect((received.first?.bytes.count ?? 0) > 3_000_000)
        }
    }

    @Test(
        "MAIL, RCPT, RCPT and DATA pipelined in one write are answered in order, and the content after 354 is the message"
    )
    func pipelining() async throws {
        try await Self.withServer { port, acceptor, _, _ in
            let output = try await Self.python(
                Self.rawClient,
                [
                    "\(port)", "1|EHLO mx\\r\\n",
                    "4|MAIL FROM:<a@corp.test>\\r\\nRCPT TO:<b@other.test>\\r\\nRCPT TO:<c@other.test>\\r\\nDATA\\r\\n",
                    "2|Subject: p\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n",
                ])
            #expect(Self.codes(output) == [220, 250, 250, 250, 250, 354, 250, 221])
            let received = await acceptor.received
            #expect(received.map(\.bytes) == [Data("Subject: p\r\n\r\nbody\r\n".utf8)])
            #expect(received.first?.message.recipients == ["b@other.test", "c@other.test"])
        }
    }

    @Test("a client outside the trusted networks is refused at MAIL and nothing reaches the acceptor: no open relay")
    func noOpenRelay() async throws {
        try await Self.withServer(configure: {
            $0.trustedNetworks = [try SMTPNetwork("10.0.0.0/8")]
            $0.authenticationEnabled = false
        }) { port, acceptor, _, _ in
            let output = try await Self.python(
                Self.rawClient,
                [
                    "\(port)", "1|EHLO spammer\\r\\n",
                    "3|MAIL FROM:<a@corp.test>\\r\\nRCPT TO:<victim@other.test>\\r\\nDATA\\r\\n",
                    "3|Subject: spam\\r\\n.\\r\\nQUIT\\r\\n",
                ])
            // The would-be content is read as (unknown) commands: DATA was refused.
            #expect(Self.codes(output) == [220, 250, 530, 503, 503, 500, 500, 221])
            #expect(await acceptor.received.isEmpty)
        }
    }

    @Test("an untrusted client on loopback relays after AUTH with the right password, not with a wrong one")
    func authenticatedRelay() async throws {
        try await Self.withServer(configure: { $0.trustedNetworks = [try SMTPNetwork("10.0.0.0/8")] }) {
            port, acceptor, _, _ in
            let output = try await Self.python(
                #"""
                import smtplib, sys
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as client:
                    client.ehlo("laptop")
                    try:
                        client.login("alice@corp.test", "wrong")
                    except smtplib.SMTPAuthenticationError as error:
                        print("wrong", error.smtp_code)
                    client.login("alice@corp.test", "right horse")
                    print("refused", client.sendmail("alice@corp.test", ["bob@other.test"], b"Subject: s\r\n\r\nhi\r\n"))
                """#, ["\(port)"])
            #expect(output.contains("wrong 535"))
            #expect(output.contains("refused {}"))
            let received = await acceptor.received
            #expect(received.first?.message.client.authenticatedAs == "alice@corp.test")
            // smtplib tries PLAIN, then LOGIN with the wrong password; then PLAIN with the right one.
            #expect(await acceptor.authentications == ["alice@corp.test", "alice@corp.test", "alice@corp.test"])
        }
    }

    @Test("a connection dropped in the middle of DATA hands nothing over and leaves no file")
    func droppedMidData() async throws {
        try await Self.withServer { port, acceptor, server, spool in
            _ = try await Self.python(
                Self.rawClient,
                [
                    "\(port)", "1|EHLO mx\\r\\n",
                    "3|MAIL FROM:<a@corp.test>\\r\\nRCPT TO:<b@other.test>\\r\\nDATA\\r\\n",
                    "0|Subject: half\\r\\n\\r\\nthe first half of the body\\r\\n", "@close",
                ])
            try await Self.sessionsEnded(server)
            #expect(await acceptor.received.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path).isEmpty)
        }
    }

    @Test("content over the size limit answers 552, is not handed over, and the session goes on")
    func oversizedContent() async throws {
        try await Self.withServer(configure: { $0.maximumMessageSize = 100 }) { port, acceptor, _, _ in
            let big = String(repeating: "0123456789", count: 30)
            let output = try await Self.python(
                Self.rawClient,
                [
                    "\(port)", "1|EHLO mx\\r\\n",
                    "3|MAIL FROM:<a@corp.test>\\r\\nRCPT TO:<b@other.test>\\r\\nDATA\\r\\n",
                    "1|\(big)\\r\\n\(big)\\r\\n.\\r\\n", "1|MAIL FROM:<a@corp.test> SIZE=101\\r\\n",
                    "3|MAIL FROM:<a@corp.test>\\r\\nRCPT TO:<b@other.test>\\r\\nDATA\\r\\n", "1|small\\r\\n.\\r\\n",
                ])
            #expect(Self.codes(output) == [220, 250, 250, 250, 354, 552, 552, 250, 250, 354, 250])
            #expect(await acceptor.received.map(\.bytes) == [Data("small\r\n".utf8)])
        }
    }

    @Test("the acceptor's temporary failure answers 451 after the final dot")
    func temporaryFailure() async throws {
        try await Self.withServer { port, acceptor, _, _ in
            await acceptor.setAnswer(.temporaryFailure("vault busy"))
            let output = try await Self.python(
                Self.rawClient,
                [
                    "\(port)", "1|HELO mx\\r\\n",
                    "3|MAIL FROM:<a@corp.test>\\r\\nRCPT TO:<b@other.test>\\r\\nDATA\\r\\n", "1|x\\r\\n.\\r\\n",
                ])
            #expect(output.contains("451 4.3.0 vault busy"))
        }
    }

    @Test("a line over 1,000 octets answers 500 and the next command is served")
    func longLine() async throws {
        try await Self.withServer { port, _, _, _ in
            let long = String(repeating: "x", count: 1500)
            let output = try await Self.python(
                Self.rawClient, ["\(port)", "1|EHLO mx\\r\\n", "1|NOOP \(long)\\r\\n", "1|NOOP\\n"])
            #expect(Self.codes(output) == [220, 250, 500, 250])
            #expect(output.contains("500 5.5.2 Line too long"))
        }
    }

    @Test("a client that stays silent past the command timeout gets 421 and is disconnected")
    func idleTimeout() async throws {
        try await Self.withServer(configure: { $0.commandTimeout = .milliseconds(300) }) { port, _, _, _ in
            let output = try await Self.python(Self.rawClient, ["\(port)", "1|EHLO mx\\r\\n", "1|"])
            #expect(Self.codes(output) == [220, 250, 421])
            #expect(output.contains("421 4.4.2"))
        }
    }

    @Test("a connection beyond the maximum gets 421")
    func connectionLimit() async throws {
        try await Self.withServer(configure: { $0.maximumConnections = 1 }) { port, _, _, _ in
            let output = try await Self.python(
                #"""
                import socket, sys
                port = int(sys.argv[1])
                first = socket.create_connection(("127.0.0.1", port), timeout=30)
                print(first.makefile("rb").readline().decode().strip())
                second = socket.create_connection(("127.0.0.1", port), timeout=30)
                print(second.makefile("rb").readline().decode().strip())
                """#, ["\(port)"])
            let lines = output.split(separator: "\n")
            #expect(lines.first?.hasPrefix("220 ") == true)
            #expect(lines.last?.hasPrefix("421 4.3.2") == true)
        }
    }

    @Test("on graceful shutdown an idle session gets 421 and run() returns")
    func gracefulShutdown() async throws {
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-live-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: spool) }
        let server = try SMTPServer(
            configuration: SMTPServerConfiguration(port: 0, hostname: "gw.test", spoolDirectory: spool),
            acceptor: RecordingAcceptor())
        let group = ServiceGroup(services: [server], logger: .init(label: "test"))
        try await withThrowingTaskGroup(of: String.self) { tasks in
            tasks.addTask {
                try await group.run()
                return "stopped"
            }
            let port = try await server.listeningAddress().port ?? 0
            let ready = spool.deletingLastPathComponent().appendingPathComponent("ready-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: ready) }
            tasks.addTask {
                // Greets, says EHLO and reads its answer, marks that the session is idle
                // between commands, then prints whatever the server says until it closes.
                try await Self.python(
                    """
                    import socket, sys
                    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
                    f = s.makefile("rb")
                    print(f.readline().decode().rstrip())
                    s.sendall(b"EHLO mx\\r\\n")
                    while True:
                        line = f.readline().decode().rstrip()
                        print(line)
                        if line[3:4] == " ": break
                    open(sys.argv[2], "w").close()
                    for line in f: print(line.decode().rstrip())
                    """, ["\(port)", ready.path])
            }
            // Shut down only once the session is idle after its EHLO answer: a shutdown
            // before the client's EHLO arrives would race the client's write.
            while !FileManager.default.fileExists(atPath: ready.path) { try await Task.sleep(for: .milliseconds(20)) }
            await group.triggerGracefulShutdown()
            var results: [String] = []
            for try await result in tasks { results.append(result) }
            #expect(results.contains("stopped"))
            let client = results.first { $0 != "stopped" } ?? ""
            #expect(Self.codes(client).last == 421)
            #expect(client.contains("421 4.3.2"))
        }
        await #expect(throws: SMTPServerError.notListening) { try await server.listeningAddress() }
    }
}

@Suite("SMTP server set-up")
struct SMTPServerSetUpTests {
    @Test("a port already in use makes run() throw, and listeningAddress() then fails")
    func portInUse() async throws {
        try await SMTPServerLiveTests.withServer { port, _, _, spool in
            let second = try SMTPServer(
                configuration: SMTPServerConfiguration(port: port, hostname: "gw.test", spoolDirectory: spool),
                acceptor: RecordingAcceptor())
            await #expect(throws: (any Error).self) { try await second.run() }
            await #expect(throws: SMTPServerError.notListening) { try await second.listeningAddress() }
        }
    }

    @Test("limits below one, a bad port or a hostname with spaces are refused before anything listens")
    func invalidConfiguration() {
        let spool = URL(fileURLWithPath: "/tmp/unused")
        let acceptor = RecordingAcceptor()
        var configurations: [SMTPServerConfiguration] = []
        for change in [
            { (c: inout SMTPServerConfiguration) in c.maximumConnections = 0 },
            { $0.maximumRecipients = 0 }, { $0.maximumMessageSize = 0 }, { $0.port = 70000 },
            { $0.hostname = "gw test" }, { $0.commandTimeout = .zero },
        ] {
            var configuration = SMTPServerConfiguration(hostname: "gw.test", spoolDirectory: spool)
            change(&configuration)
            configurations.append(configuration)
        }
        for configuration in configurations {
            #expect(throws: SMTPServerError.invalidConfiguration) {
                try SMTPServer(configuration: configuration, acceptor: acceptor)
            }
        }
    }

    @Test("a certificate that cannot be read is a configuration error")
    func unreadableCertificate() {
        let configuration = SMTPServerConfiguration(
            hostname: "gw.test", spoolDirectory: URL(fileURLWithPath: "/tmp/unused"),
            tls: .init(certificateChainPath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem"))
        #expect(throws: SMTPServerError.invalidConfiguration) {
            try SMTPServer(configuration: configuration, acceptor: RecordingAcceptor())
        }
    }
}

@Suite("SMTP acceptor contract")
struct SMTPAcceptorContractTests {
    @Test("an acceptor that only implements authenticate answers credentials as authenticated or rejected")
    func defaultVerification() async {
        let acceptor = RecordingAcceptor()
        #expect(
            await acceptor.verifyCredentials(username: "alice@corp.test", password: "right horse", client: "::1")
                == .authenticated("alice@corp.test"))
        #expect(
            await acceptor.verifyCredentials(username: "alice@corp.test", password: "nope", client: "::1") == .rejected)
    }
}

extension RecordingAcceptor {
    func setAnswer(_ answer: SMTPAcceptance) { self.answer = answer }
}
