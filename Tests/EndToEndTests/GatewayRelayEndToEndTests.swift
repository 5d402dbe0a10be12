import Foundation
import RetractTestSupport
import Testing

@Suite("End to end: the SMTP gateway is no open relay", .serialized)
struct GatewayRelayEndToEndTests {
    @Test("a client outside RETRACT_SMTP_TRUSTED without AUTH can write to no address but a recall address (554 at RCPT), an unknown recall address gets 550, and nothing is stored or sent")
    func untrustedClientRefused() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-relay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var cli = RetractBinary(workingDirectory: root)
        cli.environment = ["RETRACT_SMTP_TRUSTED": "10.9.9.0/24", "RETRACT_INTERNAL_DOMAINS": "corp.test"]
        #expect(try cli.run(["init"]).status == 0)
        let smtpPort = try PostfixInstance.freePort()
        let (server, _) = try cli.startServer(extra: ["--smtp-listen", "127.0.0.1:\(smtpPort)"])
        defer { server.terminate(); server.waitUntilExit() }
        #expect(try PostfixInstance.waitForPortOpen(smtpPort))

        // When a stranger (here: 127.0.0.1, not trusted) tries to send through it: to another
        // domain, to the organisation's own, and to a well-formed but unknown recall address
        let recall = "recall+" + String(repeating: "A", count: 43) + "@localhost"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let out = Pipe()
        process.standardOutput = out
        process.arguments = [
            "python3", "-c",
            """
            import smtplib
            s = smtplib.SMTP("127.0.0.1", \(smtpPort), timeout=30)
            s.ehlo("stranger.example")
            codes = [s.mail("alice@corp.test")[0], s.rcpt("victim@partner.test")[0], s.rcpt("alice@corp.test")[0]]
            codes.append(s.rcpt("\(recall)")[0])
            codes.append(s.data(b"From: x@y.example\\r\\nSubject: hi\\r\\n\\r\\nREVOKE\\r\\n")[0])
            print(" ".join(str(c) for c in codes))
            s.quit()
            """,
        ]
        try process.runSafely()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        // Then MAIL is answered, every relay RCPT is refused with 554, the recall address is
        // taken, and its unknown capability is refused with 550 after the content
        let codes = printed.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(codes == [250, 554, 554, 250, 550], "smtplib printed \(printed)")
        let list = try cli.run(["list", "--json"])
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any]
        #expect(listed?.isEmpty == true)
        let outbox = root.appendingPathComponent(".retract/outbox")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).isEmpty)
    }
}
