import ArgumentParser
import Foundation
import Vault

/// `retract restore DIR`: a backup into an empty data directory, after checking every hash.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup made by `retract backup` into an empty data directory.",
        discussion: """
            Every file is checked against the backup's manifest first; nothing is written
            unless all match. The data directory (RETRACT_DATA_DIR or --data-dir) must not
            exist or be empty. The master keys the backup needs come from the keys directory.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The backup directory.") var directory: String

    func run() async throws {
        try await Console.run {
            let configuration = try global.configuration()
            let manifest = try VaultBackup.restore(
                from: URL(fileURLWithPath: directory), into: configuration.dataDirectory)
            // Opening it checks the schema (and applies a newer binary's migrations).
            _ = try VaultDatabase.open(directory: configuration.dataDirectory)
            Console.out(
                "retract: restored \(manifest.messages) messages (backup of \(Console.date(manifest.createdAt))) into \(configuration.dataDirectory.path); every file matched its manifest"
            )
        }
    }
}
