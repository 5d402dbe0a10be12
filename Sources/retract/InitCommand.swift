import ArgumentParser
import RetractCore

/// `retract init`: the data directory, the vault and a master key, when missing.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the data directory, the vault and a master key if missing.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Console.run {
            let configuration = try global.configuration()
            if let kid = try RetractService.initialize(configuration) {
                Console.out("retract: created master key \(kid) in \(configuration.keysDirectory.path)")
            }
            Console.out("retract: vault ready in \(configuration.dataDirectory.path)")
        }
    }
}
