import Foundation
import Testing

@testable import SMTP

@Suite("SMTP server state machine")
struct SMTPServerStateMachineTests {
    typealias Action = SMTPServerStateMachine.Action

    static func settings(
        trusted: Bool = true, loopback: Bool = true, tls: Bool = false, maximumMessageSize: Int64 = 1000
    ) -> SMTPServerStateMachine.Settings {
        SMTPServerStateMachine.Settings(
            hostname: "gw.test", maximumMessageSize: maximumMessageSize, tlsAvailable: tls,
            clientAddress: loopback ? "127.0.0.1" : "203.0.113.9", clientTrusted: trusted, clientLoopback: loopback)
    }

    /// Feeds one line and returns the action.
    static func send(_ machine: inout SMTPServerStateMachine, _ line: String) -> Action {
        machine.receive(line: Array(line.utf8))
    }

    static func code(_ action: Action) -> Int? {
        switch action {
        case .reply(let reply), .startContent(let reply), .startTLS(let reply), .close(let reply): reply.code
        case .authenticate, .handOver: nil
        }
    }

    static func reply(_ action: Action) -> SMTPServerReply? {
        switch action {
        case .reply(let reply), .startContent(let reply), .startTLS(let reply), .close(let reply): reply
        case .authenticate, .handOver: nil
        }
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    @Test("a full transaction hands over the envelope and answers the acceptor's 250")
    func fullTransaction() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        #expect(Self.code(machine.greeting()) == 220)
        #expect(Self.code(Self.send(&machine, "EHLO mx.corp.test")) == 250)
        #expect(
            Self.send(&machine, "MAIL FROM:<alice@corp.test> SIZE=100 BODY=8BITMIME")
                == .reply(SMTPServerReply(250, "2.1.0", "Sender OK")))
        #expect(
            Self.code(
                Self.send(&machine, "RCPT TO:<bob@other.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@other.test"))
                == 250)
        #expect(Self.code(Self.send(&machine, "rcpt to:<carol@corp.test>")) == 250)
        #expect(
            Self.send(&machine, "DATA") == .startContent(SMTPServerReply(354, nil, "End data with <CR><LF>.<CR><LF>")))
        #expect(
            Self.code(machine.receive(line: Array("NOOP".utf8))) == 421,
            "a command line during the content is the caller's error")
    }

    @Test("after the content the envelope goes to the acceptor, and its answer is the reply")
    func handOverAndAcceptance() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx.corp.test")
        _ = Self.send(&machine, "MAIL FROM:<>")
        _ = Self.send(&machine, "RCPT TO:<bob@other.test>")
        _ = Self.send(&machine, "RCPT TO:<carol@corp.test>")
        #expect(Self.code(Self.send(&machine, "DATA")) == 354)
        let handOver = machine.contentEnded(exceededLimit: false)
        guard case .handOver(let envelope) = handOver else {
            Issue.record("expected a hand-over, got \(handOver)")
            return
        }
        #expect(envelope.mailFrom == "")
        #expect(envelope.recipients == ["bob@other.test", "carol@corp.test"])
        #expect(envelope.client.heloName == "mx.corp.test")
        #expect(machine.accepted(.accepted("queued as 42")) == .reply(SMTPServerReply(250, "2.0.0", "queued as 42")))
        // The next transaction starts clean.
        #expect(Self.code(Self.send(&machine, "RCPT TO:<bob@other.test>")) == 503)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 250)
    }

    @Test("temporary and permanent acceptor failures answer 451 and 554")
    func acceptorFailures() {
        for (acceptance, expected) in [
            (SMTPAcceptance.temporaryFailure("vault busy"), 451), (.permanentFailure("no such sender"), 554),
        ] {
            var machine = SMTPServerStateMachine(settings: Self.settings())
            _ = Self.send(&machine, "HELO mx")
            _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
            _ = Self.send(&machine, "RCPT TO:<b@other.test>")
            _ = Self.send(&machine, "DATA")
            _ = machine.contentEnded(exceededLimit: false)
            #expect(Self.code(machine.accepted(acceptance)) == expected)
        }
    }

    @Test(
        "EHLO lists the extensions; STARTTLS only when configured, AUTH only where allowed, XFORWARD only to trusted clients"
    )
    func ehloExtensions() {
        var trusted = SMTPServerStateMachine(settings: Self.settings(tls: true, maximumMessageSize: 52_428_800))
        let lines = Self.reply(Self.send(&trusted, "EHLO mx"))?.lines ?? []
        #expect(
            lines.dropFirst() == [
                "SIZE 52428800", "8BITMIME", "SMTPUTF8", "PIPELINING", "ENHANCEDSTATUSCODES", "DSN",
                "STARTTLS", "AUTH PLAIN LOGIN", "XFORWARD NAME ADDR PROTO HELO SOURCE IDENT",
            ])

        var remote = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: false, tls: false))
        let remoteLines = Self.reply(Self.send(&remote, "EHLO laptop"))?.lines ?? []
        #expect(!remoteLines.contains("STARTTLS"))
        #expect(!remoteLines.contains("AUTH PLAIN LOGIN"))
        #expect(!remoteLines.contains { $0.hasPrefix("XFORWARD") })
    }

    @Test("commands out of order answer 503")
    func outOfOrder() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 503)
        _ = Self.send(&machine, "EHLO mx")
        #expect(Self.code(Self.send(&machine, "RCPT TO:<b@other.test>")) == 503)
        #expect(Self.code(Self.send(&machine, "DATA")) == 503)
        _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 503)
        #expect(Self.reply(Self.send(&machine, "DATA"))?.lines == ["Bad sequence of commands: Need RCPT before DATA"])
    }

    @Test("pipelined commands are answered in order, one reply each")
    func pipelinedInOrder() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        let codes = ["EHLO mx", "MAIL FROM:<a@corp.test>", "RCPT TO:<b@x.test>", "RCPT TO:<c@x.test>", "DATA"].map {
            Self.code(Self.send(&machine, $0))
        }
        #expect(codes == [250, 250, 250, 250, 354])
    }

    @Test("unknown commands answer 500, known but unoffered ones 502, bad syntax 501")
    func unknownAndSyntax() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx")
        #expect(Self.code(Self.send(&machine, "FROB")) == 500)
        #expect(Self.code(Self.send(&machine, "BDAT 10 LAST")) == 502)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:alice@corp.test")) == 501)
        #expect(Self.code(Self.send(&machine, "MAIL TO:<alice@corp.test>")) == 501)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test> SIZE=big")) == 501)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test> BODY=BINARYMIME")) == 501)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test> FROB=1")) == 555)
        #expect(Self.code(Self.send(&machine, "EHLO")) == 501)
        #expect(Self.code(Self.send(&machine, "DATA now")) == 501)
    }

    @Test("RET= and ENVID= are accepted and ignored, and so is SMTPUTF8 with a non-ASCII sender")
    func dsnAndUTF8Parameters() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx")
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<jörg@corp.test> SMTPUTF8 RET=HDRS ENVID=QQ314159")) == 250)
        var plain = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&plain, "EHLO mx")
        #expect(Self.code(Self.send(&plain, "MAIL FROM:<jörg@corp.test>")) == 553)
    }

    @Test("a declared SIZE over the maximum answers 552 and starts no transaction")
    func declaredSizeTooBig() {
        var machine = SMTPServerStateMachine(settings: Self.settings(maximumMessageSize: 1000))
        _ = Self.send(&machine, "EHLO mx")
        #expect(Self.reply(Self.send(&machine, "MAIL FROM:<a@corp.test> SIZE=1001"))?.enhancedCode == "5.3.4")
        #expect(Self.code(Self.send(&machine, "RCPT TO:<b@other.test>")) == 503)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test> SIZE=1000")) == 250)
    }

    @Test("content over the maximum answers 552 and hands nothing over")
    func contentTooBig() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx")
        _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
        _ = Self.send(&machine, "RCPT TO:<b@other.test>")
        _ = Self.send(&machine, "DATA")
        #expect(Self.code(machine.contentEnded(exceededLimit: true)) == 552)
        #expect(Self.code(Self.send(&machine, "RCPT TO:<b@other.test>")) == 503)
    }

    @Test("the 101st recipient answers 452 and the first 100 stay")
    func recipientLimit() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx")
        _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
        for index in 0..<100 { #expect(Self.code(Self.send(&machine, "RCPT TO:<r\(index)@other.test>")) == 250) }
        #expect(
            Self.reply(Self.send(&machine, "RCPT TO:<r100@other.test>"))
                == SMTPServerReply(452, "4.5.3", "Too many recipients"))
        _ = Self.send(&machine, "DATA")
        guard case .handOver(let envelope) = machine.contentEnded(exceededLimit: false) else {
            Issue.record("no hand-over")
            return
        }
        #expect(envelope.recipients.count == 100)
    }

    @Test("an untrusted, unauthenticated client is refused at MAIL with 530: no open relay")
    func noOpenRelay() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: false))
        _ = Self.send(&machine, "EHLO spammer")
        #expect(
            Self.reply(Self.send(&machine, "MAIL FROM:<a@corp.test>"))
                == SMTPServerReply(530, "5.7.0", "Authentication required"))
        #expect(Self.code(Self.send(&machine, "RCPT TO:<victim@other.test>")) == 503)
        #expect(Self.code(Self.send(&machine, "DATA")) == 503)
    }

    @Test("an untrusted client on loopback may relay after AUTH PLAIN with an initial response")
    func authPlainInitialResponse() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: true))
        _ = Self.send(&machine, "EHLO laptop")
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 530)
        #expect(
            Self.send(&machine, "AUTH PLAIN \(Self.base64("\0alice@corp.test\0secret"))")
                == .authenticate(username: "alice@corp.test", password: "secret"))
        #expect(Self.code(machine.authenticated(.authenticated("alice@corp.test"))) == 235)
        #expect(machine.client.authenticatedAs == "alice@corp.test")
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 250)
    }

    @Test("AUTH PLAIN by continuation and AUTH LOGIN ask with 334, and wrong credentials answer 535")
    func authContinuations() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: true))
        _ = Self.send(&machine, "EHLO laptop")
        #expect(Self.code(Self.send(&machine, "AUTH PLAIN")) == 334)
        #expect(
            Self.send(&machine, Self.base64("alice\0alice\0pw")) == .authenticate(username: "alice", password: "pw"))
        #expect(
            machine.authenticated(.rejected)
                == .reply(SMTPServerReply(535, "5.7.8", "Authentication credentials invalid")))
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 530)

        #expect(Self.reply(Self.send(&machine, "AUTH LOGIN")) == SMTPServerReply(334, nil, Self.base64("Username:")))
        #expect(
            Self.reply(Self.send(&machine, Self.base64("alice"))) == SMTPServerReply(334, nil, Self.base64("Password:"))
        )
        #expect(Self.send(&machine, Self.base64("pw")) == .authenticate(username: "alice", password: "pw"))
        #expect(Self.code(machine.authenticated(.authenticated("alice@corp.test"))) == 235)
        #expect(Self.code(Self.send(&machine, "AUTH LOGIN")) == 503)
    }

    @Test("an AUTH exchange can be cancelled with '*', and undecodable responses answer 501")
    func authCancelAndGarbage() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: true))
        _ = Self.send(&machine, "EHLO laptop")
        _ = Self.send(&machine, "AUTH LOGIN")
        #expect(Self.reply(Self.send(&machine, "*"))?.enhancedCode == "5.7.0")
        #expect(Self.code(Self.send(&machine, "AUTH PLAIN !!!notbase64")) == 501)
        #expect(Self.code(Self.send(&machine, "AUTH CRAM-MD5")) == 504)
        #expect(Self.code(Self.send(&machine, "NOOP")) == 250)
    }

    @Test("an acceptor that refuses for now (too many attempts) answers 454, and AUTH may be tried again")
    func authLimited() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: true))
        _ = Self.send(&machine, "EHLO laptop")
        _ = Self.send(&machine, "AUTH PLAIN \(Self.base64("\0alice\0pw"))")
        #expect(
            machine.authenticated(.temporarilyRefused)
                == .reply(SMTPServerReply(454, "4.7.0", "Too many authentication attempts; try again later")))
        #expect(machine.client.authenticatedAs == nil)
        #expect(Self.code(Self.send(&machine, "AUTH PLAIN \(Self.base64("\0alice\0pw"))")) == nil)
    }

    @Test("AUTH for another authorization identity is refused")
    func authzidRefused() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: true))
        _ = Self.send(&machine, "EHLO laptop")
        #expect(Self.code(Self.send(&machine, "AUTH PLAIN \(Self.base64("boss\0alice\0pw"))")) == 535)
    }

    @Test("AUTH off loopback needs STARTTLS first (538), and is offered after it")
    func authNeedsTLS() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: false, tls: true))
        _ = Self.send(&machine, "EHLO laptop")
        #expect(Self.code(Self.send(&machine, "AUTH PLAIN \(Self.base64("\0a\0b"))")) == 538)
        #expect(Self.send(&machine, "STARTTLS") == .startTLS(SMTPServerReply(220, "2.0.0", "Ready to start TLS")))
        machine.tlsEstablished()
        #expect(machine.client.tls)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 503)
        let lines = Self.reply(Self.send(&machine, "EHLO laptop"))?.lines ?? []
        #expect(lines.contains("AUTH PLAIN LOGIN"))
        #expect(!lines.contains("STARTTLS"))
        #expect(
            Self.send(&machine, "AUTH PLAIN \(Self.base64("\0a\0b"))") == .authenticate(username: "a", password: "b"))
    }

    @Test("a second STARTTLS and STARTTLS after AUTH answer 503; without a certificate STARTTLS answers 502")
    func startTLSRules() {
        var secured = SMTPServerStateMachine(settings: Self.settings(tls: true))
        _ = Self.send(&secured, "EHLO mx")
        _ = Self.send(&secured, "STARTTLS")
        secured.tlsEstablished()
        _ = Self.send(&secured, "EHLO mx")
        #expect(Self.code(Self.send(&secured, "STARTTLS")) == 503)

        var authenticated = SMTPServerStateMachine(settings: Self.settings(tls: true))
        _ = Self.send(&authenticated, "EHLO mx")
        _ = Self.send(&authenticated, "AUTH PLAIN \(Self.base64("\0a\0b"))")
        _ = authenticated.authenticated(.authenticated("a@corp.test"))
        #expect(Self.code(Self.send(&authenticated, "STARTTLS")) == 503)

        var plain = SMTPServerStateMachine(settings: Self.settings(tls: false))
        _ = Self.send(&plain, "EHLO mx")
        #expect(Self.code(Self.send(&plain, "STARTTLS")) == 502)
    }

    @Test("XFORWARD from a trusted client is recorded; from anyone else it is refused")
    func xforward() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO localhost")
        #expect(Self.code(Self.send(&machine, "XFORWARD NAME=client.example ADDR=10.0.0.5 PROTO=ESMTP")) == 250)
        #expect(Self.code(Self.send(&machine, "XFORWARD HELO=laptop+2Ecorp SOURCE=REMOTE IDENT=[UNAVAILABLE]")) == 250)
        #expect(
            machine.client.forwarded == [
                "NAME": "client.example", "ADDR": "10.0.0.5", "PROTO": "ESMTP", "HELO": "laptop.corp",
                "SOURCE": "REMOTE",
            ])
        #expect(Self.code(Self.send(&machine, "XFORWARD COLOUR=blue")) == 501)
        _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
        #expect(Self.code(Self.send(&machine, "XFORWARD ADDR=10.0.0.6")) == 503)

        var untrusted = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: false))
        _ = Self.send(&untrusted, "EHLO x")
        #expect(Self.code(Self.send(&untrusted, "XFORWARD ADDR=10.0.0.5")) == 550)
        #expect(untrusted.client.forwarded.isEmpty)
    }

    @Test("RSET ends the transaction, NOOP answers 250, QUIT 221 and close, VRFY 252, EXPN 502")
    func simpleCommands() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx")
        _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
        #expect(Self.code(Self.send(&machine, "RSET")) == 250)
        #expect(Self.code(Self.send(&machine, "RCPT TO:<b@other.test>")) == 503)
        #expect(Self.code(Self.send(&machine, "NOOP")) == 250)
        #expect(Self.code(Self.send(&machine, "VRFY bob")) == 252)
        #expect(Self.code(Self.send(&machine, "EXPN staff")) == 502)
        guard case .close(let reply) = Self.send(&machine, "QUIT") else {
            Issue.record("QUIT does not close")
            return
        }
        #expect(reply.code == 221)
    }

    @Test("every reply but the greeting and the EHLO/HELO answer carries an enhanced status code")
    func enhancedCodes() {
        var machine = SMTPServerStateMachine(settings: Self.settings(trusted: false, loopback: false))
        #expect(Self.reply(machine.greeting())?.enhancedCode == nil)
        #expect(Self.reply(Self.send(&machine, "EHLO mx"))?.enhancedCode == nil)
        for line in [
            "NOOP", "FROB", "MAIL FROM:<a@b.test>", "RCPT TO:<b@c.test>", "DATA", "RSET", "VRFY x", "EXPN x",
            "HELP", "STARTTLS", "AUTH PLAIN", "XFORWARD ADDR=1.2.3.4", "MAIL FROM:x",
        ] {
            #expect(Self.reply(Self.send(&machine, line))?.enhancedCode != nil, "\(line)")
        }
        #expect(Self.reply(machine.lineTooLong())?.enhancedCode == "5.5.2")
        #expect(Self.reply(machine.timedOut()) == SMTPServerReply(421, "4.4.2", "gw.test Timeout, closing connection"))
    }

    @Test("a line too long answers 500 and the session goes on")
    func lineTooLong() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx")
        #expect(Self.code(machine.lineTooLong()) == 500)
        #expect(Self.code(Self.send(&machine, "MAIL FROM:<a@corp.test>")) == 250)
    }

    @Test("a reply with several lines goes on the wire with dashes until the last")
    func wireText() {
        #expect(
            SMTPServerReply(250, nil, ["gw.test", "SIZE 10", "DSN"]).wireText
                == "250-gw.test\r\n250-SIZE 10\r\n250 DSN\r\n")
        #expect(SMTPServerReply(250, "2.0.0", "OK").wireText == "250 2.0.0 OK\r\n")
    }

    @Test("an acceptor's text loses control characters before it becomes a reply")
    func acceptorTextSanitised() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "HELO mx")
        _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
        _ = Self.send(&machine, "RCPT TO:<b@other.test>")
        _ = Self.send(&machine, "DATA")
        _ = machine.contentEnded(exceededLimit: false)
        #expect(Self.reply(machine.accepted(.accepted("ok\r\n250 injected")))?.lines == ["ok250 injected"])
    }

    @Test("after 20 commands answered with 5xx the next one closes the session with 421")
    func errorLimit() {
        var machine = SMTPServerStateMachine(settings: Self.settings())
        _ = Self.send(&machine, "EHLO mx")
        for _ in 0..<10 { #expect(Self.code(Self.send(&machine, "GET / HTTP/1.1")) == 500) }
        #expect(Self.code(Self.send(&machine, "NOOP")) == 250)
        for _ in 0..<9 { #expect(Self.code(Self.send(&machine, "RCPT TO:<a@b.test>")) == 503) }
        #expect(Self.code(machine.lineTooLong()) == 500)
        #expect(
            Self.send(&machine, "FROB")
                == .close(SMTPServerReply(421, "4.7.0", "gw.test Too many errors, closing connection")))
    }

    @Test("STARTTLS inside a mail transaction answers 503")
    func startTLSInTransaction() {
        var machine = SMTPServerStateMachine(settings: Self.settings(tls: true))
        _ = Self.send(&machine, "EHLO mx")
        _ = Self.send(&machine, "MAIL FROM:<a@corp.test>")
        #expect(Self.code(Self.send(&machine, "STARTTLS")) == 503)
    }
}

@Suite("CIDR networks")
struct SMTPNetworkTests {
    @Test("IPv4 networks match the addresses inside their prefix only")
    func ipv4() throws {
        let network = try SMTPNetwork("10.1.0.0/16")
        #expect(network.contains("10.1.200.3"))
        #expect(!network.contains("10.2.0.1"))
        #expect(try SMTPNetwork("192.168.1.77/25").contains("192.168.1.1"))
        #expect(try !SMTPNetwork("192.168.1.77/25").contains("192.168.1.200"))
        #expect(try SMTPNetwork("0.0.0.0/0").contains("8.8.8.8"))
        #expect(try SMTPNetwork("10.1.2.3").contains("10.1.2.3"))
        #expect(try !SMTPNetwork("10.1.2.3").contains("10.1.2.4"))
    }

    @Test("IPv6 networks match by prefix, and an IPv4-mapped address matches as IPv4")
    func ipv6() throws {
        #expect(try SMTPNetwork("fd00::/8").contains("fd12:3456::1"))
        #expect(try !SMTPNetwork("fd00::/8").contains("fe80::1"))
        #expect(try SMTPNetwork("2001:db8::/33").contains("2001:db8:7fff::1"))
        #expect(try !SMTPNetwork("2001:db8::/33").contains("2001:db8:8000::1"))
        #expect(SMTPNetwork.isLoopback("::1"))
        #expect(SMTPNetwork.isLoopback("127.5.6.7"))
        #expect(SMTPNetwork.isLoopback("::ffff:127.0.0.1"))
        #expect(!SMTPNetwork.isLoopback("::2"))
        #expect(!SMTPNetwork.isLoopback("128.0.0.1"))
        #expect(try !SMTPNetwork("10.0.0.0/8").contains("::1"))
    }

    @Test(
        "malformed networks are refused",
        arguments: ["", "10.0.0.0/33", "::/129", "10.0.0/8", "host.example", "10.0.0.0/-1", "10.0.0.0/"])
    func malformed(text: String) {
        #expect(throws: SMTPServerError.invalidNetwork) { try SMTPNetwork(text) }
    }

    @Test("a network prints in CIDR form")
    func description() throws {
        #expect(try SMTPNetwork("10.1.2.3/16").description == "10.1.0.0/16")
        #expect(SMTPNetwork.loopback.map(\.description) == ["127.0.0.0/8", "::1/128"])
    }
}
