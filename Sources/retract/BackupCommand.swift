import ArgumentParser
import Foundation
import Vault

/// `retract backup DIR`: a consistent online copy of the vault, while the service runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the vault (database and sealed parts, with a manifest of hashes) into a new directory.",
        discussion: """
            Safe while `retract serve` runs: the copy is one committed state of the vault. The
            master keys are NOT copied: back up the keys directory separately and keep it apart
            from this backup (together they open every live message; apart, neither does).
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A new (or empty) directory for the backup.") var directory: String

    func run() async throws {
        try await Console.run {
            let configuration = try global.configuration()
            let data = configuration.dataDirectory
            guard FileManager.default.fileExists(atPath: data.appendingPathComponent(VaultDatabase.fileName).path)
            else {
                throw VaultError.dataDirectoryUnusable(data.path, reason: "there is no vault here; run `retract init`")
            }
            let vault = try VaultDatabase.open(directory: data)
            let target = URL(fileURLWithPath: directory)
            let manifest = try VaultBackup.backup(vault, to: target, at: Date())
            let parts = manifest.files.count - 1
            Console.out(
                "retract: backed up \(manifest.messages) messages (\(parts) part files, schema \(manifest.schema)) to \(target.path)"
            )
            if !manifest.partsGoneAfterCopy.isEmpty {
                Console.out(
                    "retract: note: \(manifest.partsGoneAfterCopy.count) part files were revoked while the backup ran; those messages will not open from it"
                )
            }
            Console.out(
                "retract: the master keys are not in the backup; back up \(configuration.keysDirectory.path) separately and keep it apart"
            )
        }
    }
}
