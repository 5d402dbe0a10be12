import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

@testable import RetractCore
@testable import Vault

/// Issue 16, item 3: `retract backup DIR` while the service runs, `retract restore DIR`.
@Suite("Backup and restore")
struct BackupRestoreTests {
    /// A service over a restored data directory, with the bench's keys.
    static func service(over dataDirectory: URL, bench: TestBench) throws -> RetractService {
        var configuration = bench.configuration
        configuration.dataDirectory = dataDirectory
        return RetractService(
            configuration: configuration, vault: try VaultDatabase.open(directory: dataDirectory),
            keys: try KeyDirectory(url: configuration.keysDirectory).load(), templates: try MailTemplates(),
            transport: FileOutboxTransport(directory: configuration.outboxDirectory), now: { bench.clock.now })
    }

    @Test("a backup taken during a send loop restores elsewhere: every link sent before it opens there, one revoked before it does not")
    func backupDuringSendsRestoresElsewhere() async throws {
        // Given messages sent (one with a 200 KB attachment, so a part file), one revoked
        let bench = try TestBench()
        let file = try bench.makeFile(named: "plan.bin", size: 200_000, seed: 3)
        var links: [Link] = []
        for index in 0..<4 {
            let receipt = try await bench.service.send(
                Draft(
                    from: "alice@corp.test", to: ["bob\(index)@partner.test"], subject: "s\(index)",
                    body: "body \(index)", attachments: index == 0 ? [file] : []))
            links.append(try Link.parse(try #require(receipt.recipients.first).link))
        }
        let revoked = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["eve@partner.test"], subject: "wrong", body: "oops"))
        let revokedLink = try Link.parse(try #require(revoked.recipients.first).link)
        _ = try await bench.service.revoke(RevokeRequest(messageID: revoked.messageID))

        // When a send loop runs while the backup is taken
        let service = bench.service
        let loop = Task {
            var sent = 0
            while !Task.isCancelled {
                _ = try? await service.send(
                    Draft(from: "alice@corp.test", to: ["loop\(sent)@partner.test"], subject: "loop", body: "loop"))
                sent += 1
                await Task.yield()
            }
            return sent
        }
        let backup = bench.root.appendingPathComponent("backup")
        let manifest = try VaultBackup.backup(bench.service.vault, to: backup, at: bench.clock.now)
        loop.cancel()
        _ = await loop.value

        // Then the backup verifies, holds a part file, and restores into a new data directory
        #expect(manifest.files.contains { $0.path.hasPrefix("parts/") })
        #expect(manifest.messages >= 5)
        #expect(try VaultBackup.verify(backup) == manifest)
        let restoredDirectory = bench.root.appendingPathComponent("restored")
        _ = try VaultBackup.restore(from: backup, into: restoredDirectory)
        let restored = try Self.service(over: restoredDirectory, bench: bench)

        // And every link sent before the backup opens there, the attachment byte for byte
        for link in links {
            let opened = try await restored.open(token: link.token, linkKey: link.linkKey)
            #expect(opened.envelope.bodyText.hasPrefix("body "))
        }
        let download = try await restored.downloadAttachment(token: links[0].token, linkKey: links[0].linkKey, index: 1)
        var bytes: [UInt8] = []
        while let chunk = try await download.nextChunk() { bytes += chunk }
        #expect(bytes == [UInt8](try Data(contentsOf: file)))
        // And the link revoked before the backup stays revoked
        await #expect(throws: OpenFailure.self) {
            try await restored.open(token: revokedLink.token, linkKey: revokedLink.linkKey)
        }
    }

    @Test("the backup holds no master key, in no file")
    func backupHoldsNoKey() async throws {
        let bench = try TestBench()
        _ = try await bench.service.send(Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        let backup = bench.root.appendingPathComponent("backup")
        let manifest = try VaultBackup.backup(bench.service.vault, to: backup, at: bench.clock.now)
        let keyFiles = try FileManager.default.contentsOfDirectory(atPath: bench.configuration.keysDirectory.path)
        let keyTexts = try keyFiles.map {
            try String(contentsOf: bench.configuration.keysDirectory.appendingPathComponent($0), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(!keyTexts.isEmpty)
        let raw = bench.service.keys.active.withUnsafeSecretBytes { [UInt8]($0) }
        for file in manifest.files {
            let bytes = [UInt8](try Data(contentsOf: backup.appendingPathComponent(file.path)))
            for text in keyTexts { #expect(!bytes.contains(bytes: Array(text.utf8)), "key file text in \(file.path)") }
            #expect(!bytes.contains(bytes: raw), "raw key in \(file.path)")
        }
        #expect(!manifest.files.contains { $0.path.contains("key") })
    }

    @Test("a backup into a full disk (a real 1 MiB tmpfs) fails in one line and leaves no partial copy; with room it succeeds")
    func backupIntoFullDisk() async throws {
        // Given a vault holding a 3 MB attachment, and a disk of 1 MiB
        let bench = try TestBench()
        let file = try bench.makeFile(named: "big.bin", size: 3_000_000, seed: 5)
        _ = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b", attachments: [file]))
        let disk = bench.root.appendingPathComponent("small-disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(try Process.exitStatus(of: "/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk.path]) == 0)
        defer { _ = try? Process.exitStatus(of: "/bin/umount", [disk.path]) }

        // When the backup runs out of space
        let backup = disk.appendingPathComponent("backup")
        do {
            _ = try VaultBackup.backup(bench.service.vault, to: backup, at: bench.clock.now)
            Issue.record("a backup larger than the disk succeeded")
        } catch {
            // Then it says so in one line, and nothing of it is left
            let text = "\(error)"
            #expect(text.contains("backup into \(backup.path) failed"), "\(text)")
            #expect(text.contains("the partial copy was removed"))
            #expect(!text.contains("\n"))
        }
        #expect(!FileManager.default.fileExists(atPath: backup.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path).isEmpty)

        // And the same backup where there is room succeeds and verifies
        let roomy = bench.root.appendingPathComponent("backup")
        let manifest = try VaultBackup.backup(bench.service.vault, to: roomy, at: bench.clock.now)
        #expect(manifest.files.contains { $0.path.hasPrefix("parts/") })
        _ = try VaultBackup.verify(roomy)
    }

    @Test("restore refuses a data directory that is not empty, and a tampered or incomplete backup, writing nothing")
    func restoreRefuses() async throws {
        let bench = try TestBench()
        _ = try await bench.service.send(Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        let backup = bench.root.appendingPathComponent("backup")
        _ = try VaultBackup.backup(bench.service.vault, to: backup, at: bench.clock.now)

        // A backup into a directory that is not empty is refused
        #expect(throws: VaultError.self) { try VaultBackup.backup(bench.service.vault, to: backup, at: bench.clock.now) }
        // The live data directory is not empty: refused, unchanged
        do {
            _ = try VaultBackup.restore(from: backup, into: bench.configuration.dataDirectory)
            Issue.record("restored over a live vault")
        } catch {
            #expect("\(error)".contains("not empty"))
        }
        // A flipped byte in the database copy is named, and nothing is written
        let target = bench.root.appendingPathComponent("restored")
        let database = backup.appendingPathComponent(VaultDatabase.fileName)
        var bytes = [UInt8](try Data(contentsOf: database))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: database)
        do {
            _ = try VaultBackup.restore(from: backup, into: target)
            Issue.record("a damaged backup was restored")
        } catch {
            #expect("\(error)".contains("vault.sqlite does not match the manifest"))
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))
        // Without its manifest it is no backup
        try FileManager.default.removeItem(at: backup.appendingPathComponent(VaultBackup.manifestName))
        #expect(throws: VaultError.self) { try VaultBackup.restore(from: backup, into: target) }
        #expect(!FileManager.default.fileExists(atPath: target.path))
    }
}
