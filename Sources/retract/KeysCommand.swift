import ArgumentParser
import Vault

/// `retract keys`: manage master keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage master keys.", subcommands: [Init.self])

    /// `retract keys init`: write a new master key file (mode 0600).
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Create a master key in the keys directory if there is none.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Console.run {
                let configuration = try global.configuration()
                let directory = KeyDirectory(url: configuration.keysDirectory)
                if try directory.hasKeys() {
                    let ring = try directory.load()
                    Console.out("retract: master key \(ring.active.kid) already exists; nothing to do")
                } else {
                    let key = try directory.createKey()
                    Console.out("retract: created master key \(key.kid) in \(configuration.keysDirectory.path)")
                }
            }
        }
    }
}
