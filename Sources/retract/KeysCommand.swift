import ArgumentParser
import Foundation
import RetractCore
import Vault

/// `retract keys`: manage master keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage master keys.",
        subcommands: [Init.self, List.self, Rotate.self, Retire.self])

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

    /// `retract keys list`: each key, its state, and the live values it still seals.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List master keys, their state and how many live values each still seals.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print the result as JSON.") var json = false

        /// One key in `--json` output.
        struct Row: Encodable {
            let kid: String
            let state: String
            let createdAt: Date?
            let shares: Int
            let subjects: Int
            let outbox: Int
            let total: Int
        }

        func run() async throws {
            try await Console.run {
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                let states = try service.keyStates()
                let rows = states.map {
                    Row(
                        kid: $0.kid, state: $0.state.rawValue, createdAt: $0.createdAt, shares: $0.usage.shares,
                        subjects: $0.usage.subjects, outbox: $0.usage.outboxData, total: $0.usage.total)
                }
                if json { return try Console.json(rows) }
                Console.out("KID               STATE    CREATED               SHARES  SUBJECTS  OUTBOX")
                for row in rows {
                    Console.out(
                        [
                            row.kid.padding(toLength: 16, withPad: " ", startingAt: 0),
                            row.state.padding(toLength: 7, withPad: " ", startingAt: 0),
                            Console.date(row.createdAt).padding(toLength: 20, withPad: " ", startingAt: 0),
                            String(row.shares).leftPadded(6), String(row.subjects).leftPadded(8),
                            String(row.outbox).leftPadded(6),
                        ].joined(separator: "  "))
                }
                if let missing = states.first(where: { $0.state == .missing }) {
                    Console.warning(
                        "master key \(missing.kid) is missing from the keys directory; what it seals cannot be opened until keys/master-\(missing.kid).key is restored"
                    )
                }
            }
        }
    }

    /// `retract keys rotate`: a new active key, and every live value re-sealed under it.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Create a new active master key and re-seal every live share and value under it.",
            discussion: """
                Runs beside `retract serve`: values are re-sealed in short batches and opens keep \
                working throughout. Run it again to finish a rotation that was interrupted (it then \
                makes no new key). Afterwards `retract keys retire KID` destroys the old key.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Values re-sealed per write transaction.")
        var batchSize: Int = RetractService.keyRotationBatchSize

        func run() async throws {
            try await Console.run {
                guard (1...100_000).contains(batchSize) else {
                    throw RetractError.invalidInput("--batch-size must be between 1 and 100000")
                }
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                let rotation = try await service.rotateKeys(batchSize: batchSize)
                Console.out(
                    (rotation.createdKey
                        ? "retract: created master key \(rotation.kid); "
                        : "retract: finished the rotation to master key \(rotation.kid); ")
                        + "re-sealed \(rotation.resealed) value\(rotation.resealed == 1 ? "" : "s")")
                if rotation.unreadable > 0 {
                    Console.warning(
                        "\(rotation.unreadable) value\(rotation.unreadable == 1 ? "" : "s") did not open with their own key and stay under it; `retract keys list` shows which keys"
                    )
                }
                if rotation.remaining > 0 {
                    Console.out(
                        "retract: \(rotation.remaining) live value\(rotation.remaining == 1 ? "" : "s") still under older keys; run `retract keys rotate` again"
                    )
                    throw ExitCode(1)
                }
                let old = try service.keyStates().filter { $0.state == .old }.map(\.kid)
                if !old.isEmpty {
                    Console.out(
                        "retract: nothing needs \(old.joined(separator: ", ")) any more; `retract keys retire KID` destroys it"
                    )
                }
            }
        }
    }

    /// `retract keys retire KID`: destroy a key nothing live needs.
    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire",
            abstract: "Destroy an old master key that seals nothing live (overwritten, then removed).",
            discussion: """
                Refused for the active key and for a key that still seals a live value. Once retired, \
                nothing the key sealed opens again, from any copy of the vault: revoked shares left in \
                a backup, in free pages or in the WAL included. Remove the key from every node and backup.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key id (`retract keys list` shows them).") var kid: String

        func run() async throws {
            try await Console.run {
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                try service.retireKey(kid)
                Console.out("retract: retired master key \(kid); its file is overwritten and removed")
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
