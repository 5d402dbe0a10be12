import Foundation
import Seal
import Testing

/// Issue 16, item 5: a vault made by an earlier build opens after the upgrade.
///
/// Tests/EndToEndTests/Fixtures/vault-957dc88 was made by `retract` built from commit 957dc88
/// (the last before migration v11-inline-parts; how: its README.md): a data directory, its
/// test-only master key, and the links of two messages, one of them revoked.
@Suite("End to end: upgrading keeps the vault", .serialized)
struct UpgradeEndToEndTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/vault-957dc88", isDirectory: true)

    /// How many times the vault records `migration` as applied.
    static func applied(_ migration: String, in database: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('SELECT COUNT(*) FROM grdb_migrations WHERE identifier=?', (sys.argv[2],)).fetchone()[0])",
            database.path, migration,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a vault made by commit 957dc88 opens: its live link opens with its attachment byte for byte, the revoked one stays revoked, and v11 runs once")
    func earlierVaultOpens() async throws {
        // Given a copy of the earlier build's data and keys directories
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-upgrade-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for name in ["data", "keys"] {
            try FileManager.default.copyItem(
                at: Self.fixture.appendingPathComponent(name), to: root.appendingPathComponent(name))
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o700], ofItemAtPath: root.appendingPathComponent(name).path)
        }
        for key in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("keys").path) {
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o600], ofItemAtPath: root.appendingPathComponent("keys/\(key)").path)
        }
        let links = try String(contentsOf: Self.fixture.appendingPathComponent("links.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let live = try Link.parse(try #require(links.first { $0.hasPrefix("live ") }).dropFirst(5).description)
        let revoked = try Link.parse(try #require(links.first { $0.hasPrefix("revoked ") }).dropFirst(8).description)
        let database = root.appendingPathComponent("data/vault.sqlite")
        #expect(try Self.applied("v11-inline-parts", in: database) == "0")

        // When this build serves it
        var cli = RetractBinary(workingDirectory: root)
        cli.environment = [
            "RETRACT_DATA_DIR": root.appendingPathComponent("data").path,
            "RETRACT_KEYS_DIR": root.appendingPathComponent("keys").path,
        ]
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)/m/"

        // Then the live link opens as it did, attachment included
        let (opened, body, _) = try await HTTP.postJSON(
            base + live.token.base64url + "/open", ["key": live.linkKey.base64url])
        #expect(opened == 200)
        let message = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        #expect((message["body_text"] as? String)?.contains("Made before the upgrade.") == true, "\(message)")
        let attachment = try #require((message["attachments"] as? [[String: Any]])?.first)
        let (downloaded, bytes, _) = try await HTTP.postJSON(
            base + live.token.base64url + "/attachments/\(attachment["index"] as? Int ?? 0)",
            ["key": live.linkKey.base64url])
        #expect(downloaded == 200)
        #expect(bytes == (try Data(contentsOf: Self.fixture.appendingPathComponent("notes.txt"))))
        // And the link revoked before the upgrade stays revoked
        let (gone, _, _) = try await HTTP.postJSON(
            base + revoked.token.base64url + "/open", ["key": revoked.linkKey.base64url])
        #expect(gone == 410)
        // And the new migration ran once, however often the vault is opened
        #expect(try cli.run(["list"]).status == 0)
        #expect(try Self.applied("v11-inline-parts", in: database) == "1")
    }
}
