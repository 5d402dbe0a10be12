import Foundation
import Testing

@Suite("End to end: `retract gateway check`")
struct GatewayCheckCommandTests {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    @Test("prints per recipient what the policy does and why, in text and JSON, under the environment's settings")
    func check() throws {
        // Given a vault with the sender alice@corp.test
        let cli = RetractBinary(workingDirectory: root)
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["senders", "add", "alice@corp.test", "--json"]).status == 0)

        // When the default policy is checked, then RETRACT_SEAL=tagged with a tagged subject
        let text = try cli.run([
            "gateway", "check", "--from", "alice@corp.test", "--to", "bob@partner.test", "--to", "carol@corp.test",
        ])
        var tagged = cli
        tagged.environment = ["RETRACT_SEAL": "tagged", "RETRACT_INTERNAL_DOMAINS": "corp.test"]
        let json = try tagged.run([
            "gateway", "check", "--from", "mallory@evil.test", "--to", "carol@corp.test", "--subject", "[secure] pay",
            "--json",
        ])
        let bad = try RetractBinary(workingDirectory: root, environment: ["RETRACT_SEAL": "sometimes"]).run([
            "gateway", "check", "--from", "alice@corp.test", "--to", "bob@partner.test",
        ])

        // Then each recipient's line says seal or pass through and why, and the JSON agrees
        #expect(text.status == 0)
        #expect(text.stdout.contains("bob@partner.test  seal  (partner.test is outside the internal domains)"))
        #expect(text.stdout.contains("carol@corp.test  pass through  (corp.test is an internal domain)"))
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["sender_accepted"] as? Bool == false)
        #expect(object["subject"] as? String == "pay")
        let recipients = try #require(object["recipients"] as? [[String: Any]])
        #expect(recipients.first?["action"] as? String == "seal")
        #expect(recipients.first?["reason"] as? String == "the subject carries [secure]")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("RETRACT_SEAL"))
    }
}
