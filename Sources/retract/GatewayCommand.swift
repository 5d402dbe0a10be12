import ArgumentParser
import Gateway
import RetractCore

/// `retract gateway …`: the SMTP gateway's tools.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Inspect the SMTP gateway's policy.", subcommands: [GatewayCheckCommand.self])
}

/// `retract gateway check --from A --to B…`: what the gateway would do with a message, per
/// recipient, and why, under the current settings (RETRACT_SEAL, RETRACT_INTERNAL_DOMAINS,
/// RETRACT_SEAL_TAG) and sender accounts.
struct GatewayCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Print what the gateway policy would do per recipient, and why.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The sender (the message's From).") var from: String
    @Option(help: "A recipient (repeat for more).") var to: [String] = []
    @Option(help: "The subject (the seal tag in it forces sealing).") var subject = ""
    @Flag(help: "Print the result as JSON.") var json = false

    /// The answer, also as JSON.
    struct Report: Encodable {
        var from: String
        var senderAccepted: Bool
        var senderReason: String
        var mode: String
        var internalDomains: [String]
        var subject: String
        var recipients: [GatewayPolicy.Decision]

        enum CodingKeys: String, CodingKey {
            case from, mode, subject, recipients
            case senderAccepted = "sender_accepted"
            case senderReason = "sender_reason"
            case internalDomains = "internal_domains"
        }
    }

    func run() async throws {
        try await Console.run {
            guard !to.isEmpty else { throw RetractError(.noRecipients, "name at least one recipient with --to") }
            let configuration = try global.configuration()
            let service = try RetractService.open(configuration, logger: try CommandLogger.make())
            let policy = try GatewayAcceptor(service: service).policy()
            let inside = policy.isInternal(from)
            let report = Report(
                from: from, senderAccepted: inside,
                senderReason: inside
                    ? "the sender is in an internal domain"
                    : "the sender is not in an internal domain: the gateway refuses the message (554)",
                mode: policy.mode.rawValue, internalDomains: policy.internalDomains,
                subject: policy.cleanedSubject(subject), recipients: policy.decide(subject: subject, recipients: to))
            if json { return try Console.json(report) }
            let domains = policy.internalDomains.isEmpty ? "none" : policy.internalDomains.joined(separator: ", ")
            Console.out("RETRACT_SEAL=\(policy.mode.rawValue)  internal domains: \(domains)")
            Console.out("from \(from): \(inside ? "accepted" : "refused"), \(report.senderReason)")
            for decision in report.recipients {
                let action = decision.action == .seal ? "seal" : "pass through"
                Console.out("  \(decision.recipient)  \(action)  (\(decision.reason))")
            }
        }
    }
}
