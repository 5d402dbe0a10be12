import ArgumentParser
import RetractCore

/// `retract init`: the data directory, the vault and a master key, when missing; on an
/// empty vault also the operator's first sender, whose credentials it prints once.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the data directory, the vault, a master key and a first sender if missing.",
        discussion: """
            On a vault with no sender and no message, creates the sender RETRACT_ADMIN (default \
            admin@localhost) and prints its API token and a generated password, only this once.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Console.run {
            let configuration = try global.configuration()
            if let kid = try RetractService.initialize(configuration) {
                Console.out("retract: created master key \(kid) in \(configuration.keysDirectory.path)")
            }
            Console.out("retract: vault ready in \(configuration.dataDirectory.path)")
            let service = try RetractService.open(configuration, logger: try CommandLogger.make())
            let admin = Environment.value("RETRACT_ADMIN") ?? "admin@localhost"
            guard let first = try service.createFirstSender(address: admin) else { return }
            Console.out(
                "retract: created the first sender \(first.account.address); sign in at \(configuration.publicURL)/app with"
            )
            Console.out("  address:   \(first.account.address)")
            Console.out("  password:  \(first.password)")
            Console.out("  API token: \(first.token)")
            Console.out(
                "retract: note: shown only this once; change the password with `retract senders passwd \(first.account.address)`"
            )
        }
    }
}
