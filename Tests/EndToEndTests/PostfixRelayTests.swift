import Foundation
import RetractTestSupport
import Testing

/// Python's smtplib as a mail client: submits `message` to 127.0.0.1:`port`.
func submitWithSMTPLib(port: Int, from: String, to: [String], message: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let script = """
        import smtplib, sys, json
        with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
            s.sendmail(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4].encode())
        """
    let recipients = String(decoding: try JSONSerialization.data(withJSONObject: to), as: UTF8.self)
    process.arguments = ["python3", "-c", script, String(port), from, recipients, message]
    try process.runSafely()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw EndToEndError("smtplib could not submit to port \(port)") }
}

@Suite("Postfix in a test: the organisation's MTA, run from a folder of the test's own", .serialized)
struct PostfixRelayTests {
    @Test("a private Postfix relays a submitted message to the other domain's server unchanged but for its trace")
    func relaysToTheSink() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-postfix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink(in: root)
        defer { sink.stop() }
        let postfix = try PostfixInstance(relayPort: sink.port, in: root)
        defer { postfix.stop() }

        let body = "Subject: Q3 figures\r\nMessage-ID: <q3@corp.test>\r\nFrom: alice@corp.test\r\nTo: bob@partner.test\r\n\r\nNumbers.\r\n"
        try submitWithSMTPLib(port: postfix.port, from: "alice@corp.test", to: ["bob@partner.test"], message: body)

        let deadline = Date().addingTimeInterval(60)
        var received: [SMTPSink.Received] = []
        while Date() < deadline {
            received = try sink.received()
            if !received.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let mail = try #require(received.first, "nothing arrived; postfix log: \(postfix.log.suffix(600))")
        #expect(mail.recipients == ["bob@partner.test"])
        #expect(mail.mailFrom == "alice@corp.test")
        let text = String(decoding: mail.data, as: UTF8.self)
        #expect(text.hasPrefix("Received: "))
        #expect(text.contains("Message-ID: <q3@corp.test>"))
        #expect(text.contains("\r\n\r\nNumbers.\r\n"))
    }
}
