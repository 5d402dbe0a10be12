import Foundation
import RetractTestSupport
import Testing

@Suite("End to end: the SMTP gateway is no open relay", .serialized)
struct GatewayRelayEndToEndTests {
    @Test("a client outside RETRACT_SMTP_TRUSTED without AUTH is refused at MAIL FROM and nothing is stored or sent")
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

        // When a stranger (here: 127.0.0.1, not trusted) tries to send through it
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
            code, _ = s.mail("alice@corp.test")
            rcpt, _ = s.rcpt("victim@partner.test")
            print(code, rcpt)
            s.quit()
            """,
        ]
        try process.runSafely()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        // Then MAIL FROM is refused with 530 (authentication required), RCPT never accepted
        let codes = printed.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(codes.count == 2, "smtplib printed \(printed)")
        #expect(codes.first == 530)
        #expect(codes.last.map { $0 >= 500 } == true)
        let list = try cli.run(["list", "--json"])
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any]
        #expect(listed?.isEmpty == true)
        let outbox = root.appendingPathComponent(".retract/outbox")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).isEmpty)
    }
}
