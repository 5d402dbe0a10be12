import Foundation
import RetractTestSupport
import Testing

@Suite("End to end: a vault row that does not decode", .serialized)
struct UnreadableRowEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-badrow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    /// Runs SQL on the vault with Python's sqlite3 (another program, as a hand edit would be),
    /// CHECK constraints off.
    func plant(_ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("PRAGMA ignore_check_constraints = ON")
            db.executescript(sys.argv[2])
            db.commit()
            """
        process.arguments = ["python3", "-c", script, root.appendingPathComponent(".retract/vault.sqlite").path, sql]
        try process.runSafely()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("empty dates and unknown states planted in every table: list, status, outbox and serve keep working")
    func cliAndServeStayUp() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Given a bad message with a held notification and a good one
        #expect(try cli.run(["init"]).status == 0)
        func send(_ subject: String) throws -> String {
            let result = try cli.run([
                "send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", subject, "--body", "b",
                "--delay", "2s", "--json",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return object?["id"] as? String ?? ""
        }
        let bad = try send("Bad")
        let good = try send("Good")
        try plant(
            """
            UPDATE messages SET expires_at = '', created_at = 'x' WHERE id = '\(bad)';
            UPDATE grants SET first_opened_at = '', kind = 'boss' WHERE message_id = '\(bad)';
            UPDATE outbox SET not_before = '', created_at = '' WHERE message_id = '\(bad)';
            INSERT INTO rate_limit_events (scope, subject, at) VALUES ('open-client', '127.0.0.1', '');
            """)

        // When every command that reads the vault runs, and serve's worker goes over the queue
        let list = try cli.run(["list", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains(good))
        #expect(!list.stdout.contains(bad))
        let status = try cli.run(["status", good])
        #expect(status.status == 0, "\(status.stderr)")
        let badStatus = try cli.run(["status", bad])
        #expect(badStatus.status != 0)
        #expect(badStatus.stderr.hasPrefix("retract: error: "))
        #expect(badStatus.stderr.split(separator: "\n").count == 1)
        let outbox = try cli.run(["outbox"])
        #expect(outbox.status == 0, "\(outbox.stderr)")

        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        try await Task.sleep(for: .seconds(4))
        // Then serve is still up and answering, and the good notification left
        #expect(server.isRunning)
        let (health, _, _) = try await HTTP.get("http://127.0.0.1:\(port)/healthz")
        #expect(health == 200)
        let delivered = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".retract/outbox").path)) ?? []
        #expect(delivered.filter { $0.hasSuffix(".eml") }.count == 1)
        let after = try cli.run(["outbox", "--json"])
        #expect(after.status == 0, "\(after.stderr)")
        let revoke = try cli.run(["revoke", good])
        #expect(revoke.status == 0, "\(revoke.stderr)")
    }
}
