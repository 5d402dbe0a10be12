import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

@Suite("End to end: retract backup and restore through the built binary", .serialized)
struct BackupEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    func link(of sent: RetractBinary.Result) throws -> Link {
        let object = try JSONSerialization.jsonObject(with: Data(sent.stdout.utf8)) as? [String: Any]
        let recipients = object?["recipients"] as? [[String: Any]] ?? []
        return try Link.parse(try #require(recipients.first?["link"] as? String))
    }

    @Test("backup while serve runs and sends go on, restore into a new data directory, serve it: links sent before open, the revoked one answers 410")
    func backupWhileServing() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        // Given two messages (one with a 300 KB attachment) and one revoked
        let file = root.appendingPathComponent("figures.bin")
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: file)
        var links: [Link] = []
        for (index, attachment) in [[file.path], []].enumerated() {
            let sent = try cli.run(
                ["send", "--from", "alice@corp.test", "--to", "bob\(index)@partner.test", "--subject", "s",
                 "--body", "kept \(index)", "--public-url", base, "--show-links", "--json"] + attachment.flatMap { ["--attach", $0] })
            #expect(sent.status == 0, "\(sent.stderr)")
            links.append(try link(of: sent))
        }
        let wrong = try cli.run(
            ["send", "--from", "alice@corp.test", "--to", "eve@partner.test", "--subject", "oops", "--body", "x",
             "--public-url", base, "--show-links", "--json"])
        let revokedLink = try link(of: wrong)
        let wrongID = try #require((try JSONSerialization.jsonObject(with: Data(wrong.stdout.utf8)) as? [String: Any])?["id"] as? String)
        #expect(try cli.run(["revoke", wrongID]).status == 0)

        // When a backup is taken while another send runs beside it
        let cli = self.cli
        let beside = Task.detached {
            try cli.run(["send", "--from", "alice@corp.test", "--to", "late@partner.test", "--subject", "l", "--body", "l"])
        }
        let backup = try cli.run(["backup", "backup-1"])
        _ = try await beside.value

        // Then it says what it copied and that the keys are not in it
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stdout.contains("part files"))
        #expect(backup.stdout.contains("the master keys are not in the backup"))
        // And a second backup into the same directory is refused in one line
        let again = try cli.run(["backup", "backup-1"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("not empty"))
        #expect(again.stderr.split(separator: "\n").count == 1)

        // When it is restored into a new data directory and served from there
        let restore = try cli.run(["restore", "--data-dir", "restored", "backup-1"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("every file matched its manifest"))
        let (second, secondPort) = try cli.startServer(extra: ["--data-dir", "restored"])
        defer { second.terminate(); second.waitUntilExit() }
        let restoredBase = "http://127.0.0.1:\(secondPort)"

        // Then every link sent before the backup opens, the attachment byte for byte
        for link in links {
            let (status, body, _) = try await HTTP.postJSON(
                "\(restoredBase)/m/\(link.token.base64url)/open", ["key": link.linkKey.base64url])
            #expect(status == 200)
            #expect(String(decoding: body, as: UTF8.self).contains("kept "))
        }
        let (got, bytes, _) = try await HTTP.postJSON(
            "\(restoredBase)/m/\(links[0].token.base64url)/attachments/1", ["key": links[0].linkKey.base64url])
        #expect(got == 200)
        #expect(bytes == (try Data(contentsOf: file)))
        // And the one revoked before it is gone there too
        let (revoked, _, _) = try await HTTP.get("\(restoredBase)/m/\(revokedLink.token.base64url)")
        #expect(revoked == 410)
        // And restoring over a vault is refused
        let over = try cli.run(["restore", "--data-dir", "restored", "backup-1"])
        #expect(over.status != 0)
        #expect(over.stderr.contains("not empty"))
    }
}
