import Gateway
import RetractCore
import Testing

@Suite("Gateway policy")
struct GatewayPolicyTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var mode: GatewaySealMode
        var subject: String
        var recipient: String
        var expected: GatewayPolicy.Action
        var testDescription: String { "\(mode) \(subject.debugDescription) to \(recipient) → \(expected)" }
    }

    static let rows: [Row] = [
        Row(mode: .external, subject: "Hello", recipient: "bob@partner.test", expected: .seal),
        Row(mode: .external, subject: "Hello", recipient: "carol@corp.test", expected: .passThrough),
        Row(mode: .external, subject: "Hello", recipient: "Carol@CORP.test", expected: .passThrough),
        Row(mode: .external, subject: "Hello", recipient: "eve@sub.corp.test", expected: .seal),
        Row(mode: .external, subject: "[secure] Hello", recipient: "carol@corp.test", expected: .seal),
        Row(mode: .all, subject: "Hello", recipient: "carol@corp.test", expected: .seal),
        Row(mode: .all, subject: "Hello", recipient: "bob@partner.test", expected: .seal),
        Row(mode: .tagged, subject: "Hello", recipient: "bob@partner.test", expected: .passThrough),
        Row(mode: .tagged, subject: "Hello [SECURE]", recipient: "bob@partner.test", expected: .seal),
        Row(mode: .tagged, subject: "[secure] Hello", recipient: "carol@corp.test", expected: .seal),
    ]

    @Test("each mode decides per recipient as documented", arguments: rows)
    func decides(_ row: Row) {
        // Given a policy over the internal domain corp.test
        let policy = GatewayPolicy(internalDomains: ["Corp.Test", "corp.example"], mode: row.mode)

        // When it decides for one recipient
        let decisions = policy.decide(subject: row.subject, recipients: [row.recipient])

        // Then the action is the expected one, with a reason
        #expect(decisions.map(\.action) == [row.expected])
        #expect(decisions.first?.reason.isEmpty == false)
        #expect(decisions.first?.recipient == row.recipient)
    }

    @Test("the reason names the recipient's domain or the tag")
    func reasons() {
        // Given the default mode over corp.test
        let policy = GatewayPolicy(internalDomains: ["corp.test"], mode: .external)

        // When it decides for an inside and an outside recipient, then for a tagged subject
        let plain = policy.decide(subject: "Hi", recipients: ["a@corp.test", "b@partner.test"])
        let tagged = policy.decide(subject: "Hi [secure]", recipients: ["a@corp.test"])

        // Then each reason says why
        #expect(plain[0].reason == "corp.test is an internal domain")
        #expect(plain[1].reason == "partner.test is outside the internal domains")
        #expect(tagged[0].reason == "the subject carries [secure]")
    }

    @Test("the tag is removed from the subject, whatever its case, and the blanks it leaves collapse")
    func cleansSubject() {
        let policy = GatewayPolicy(internalDomains: [], mode: .tagged, tag: "[secure]")
        #expect(policy.cleanedSubject("[secure] Quarterly numbers") == "Quarterly numbers")
        #expect(policy.cleanedSubject("Re: [SECURE]  numbers [secure]") == "Re: numbers")
        #expect(policy.cleanedSubject("no tag  here") == "no tag  here")
    }

    @Test("without configured domains the sender accounts' domains are internal")
    func defaultDomains() {
        // Given a configuration without RETRACT_INTERNAL_DOMAINS, then one with it
        var configuration = RetractConfiguration()
        let fromSenders = GatewayPolicy(configuration: configuration, senderDomains: ["corp.test"])
        configuration.gatewayInternalDomains = ["other.test"]
        let configured = GatewayPolicy(configuration: configuration, senderDomains: ["corp.test"])

        // Then the first uses the sender domains, the second only the configured ones
        #expect(fromSenders.isInternal("a@corp.test"))
        #expect(!configured.isInternal("a@corp.test"))
        #expect(configured.isInternal("a@other.test"))
    }

    @Test("the gateway settings are read from the environment and bad values are named")
    func settings() throws {
        // Given environment values
        var configuration = RetractConfiguration()
        let values = [
            "RETRACT_INTERNAL_DOMAINS": " Corp.Test, @corp.example ,", "RETRACT_SEAL": "Tagged",
            "RETRACT_SEAL_TAG": "[vault]", "RETRACT_RECEIPTS": "off",
        ]

        // When they are applied
        try configuration.applyGatewaySettings { values[$0] }

        // Then each setting holds, and an unknown mode is refused by name
        #expect(configuration.gatewayInternalDomains == ["corp.test", "corp.example"])
        #expect(configuration.gatewaySealMode == .tagged)
        #expect(configuration.gatewaySealTag == "[vault]")
        #expect(!configuration.gatewayReceipts)
        #expect(throws: RetractError.self) {
            try configuration.applyGatewaySettings { $0 == "RETRACT_SEAL" ? "sometimes" : nil }
        }
        #expect(throws: RetractError.self) {
            try configuration.applyGatewaySettings { $0 == "RETRACT_INTERNAL_DOMAINS" ? "corp test" : nil }
        }
    }
}
