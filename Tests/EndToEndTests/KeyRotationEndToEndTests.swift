import Foundation
import Mail
import RetractTestSupport
import Seal
import Synchronization
import Testing

@Suite("End to end: master-key rotation through the built binary", .serialized)
struct KeyRotationEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    /// Sends one message to `count` recipients through the CLI and returns their links.
    func sendLinks(count: Int, base: String) throws -> [Link] {
        let sent = try cli.run(
            [
                "send", "--from", "alice@corp.test", "--subject", "Price list", "--body", "Price: 100", "--public-url",
                base,
            ]
                + (0..<count).flatMap { ["--to", "r\($0)@partner.test"] })
        #expect(sent.status == 0, "\(sent.stderr)")
        let directory = root.appendingPathComponent(".retract/outbox")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".eml") }
        return try names.map {
            let mail = try ParsedMail(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent($0))))
            return try Link.parse(try #require(mail.links.first))
        }
    }

    func open(_ link: Link, _ base: String) async throws -> Int {
        try await HTTP.postJSON("\(base)/m/\(link.token.base64url)/open", ["key": link.linkKey.base64url]).0
    }

    func keyList() throws -> [[String: Any]] {
        let listed = try cli.run(["keys", "list", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        return try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [[String: Any]]
    }

    func keyFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("keys").path).sorted()
    }

    @Test(
        "opens over HTTP keep succeeding while keys rotate runs beside serve; after retire the old key file is gone and every link opens"
    )
    func rotateUnderLoad() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        let links = try sendLinks(count: 40, base: base)
        #expect(links.count == 40)
        let old = try #require(try keyList().first?["kid"] as? String)

        let done = Atomic<Bool>(false)
        let opener = Task {
            var statuses: [Int: Int] = [:]
            var index = 0
            repeat {
                let status = (try? await open(links[index % links.count], base)) ?? -1
                statuses[status, default: 0] += 1
                index += 1
            } while !done.load(ordering: .acquiring) || index < links.count
            return statuses
        }
        let cli = self.cli
        let rotate = try await Task.detached { try cli.run(["keys", "rotate", "--batch-size", "2"]) }.value
        done.store(true, ordering: .releasing)
        let statuses = await opener.value
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.contains("created master key"))
        #expect(rotate.stdout.contains("re-sealed 41 values"))
        #expect(statuses.keys.sorted() == [200], "\(statuses)")

        let listed = try keyList()
        #expect(listed.map { $0["state"] as? String } == ["old", "active"])
        #expect(listed[0]["kid"] as? String == old && listed[0]["total"] as? Int == 0)
        #expect(listed[1]["shares"] as? Int == 40 && listed[1]["subjects"] as? Int == 1)
        let new = try #require(listed[1]["kid"] as? String)

        let active = try cli.run(["keys", "retire", new])
        #expect(active.status == 1)
        #expect(active.stderr.contains("is the active key"))

        let retired = try cli.run(["keys", "retire", old])
        #expect(retired.status == 0, "\(retired.stderr)")
        #expect(try keyFiles() == ["master-\(new).key"])
        for link in links {
            #expect(try await open(link, base) == 200)
        }
    }

    @Test("retire of a key still sealing shares is one line with the count and what to run")
    func retireInUse() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        _ = try sendLinks(count: 3, base: "http://127.0.0.1:9")
        let old = try #require(try keyList().first?["kid"] as? String)
        // A second key made by hand (as `keys rotate` begins) without re-sealing anything yet.
        // Made in a folder of its own, it knows nothing of the old key: in the same second
        // its random half may sort below the old kid, and then the old key stays the active
        // one. Make it again until it sorts after (the next second always does).
        var name = ""
        for attempt in 0..<64 where name <= "master-\(old).key" {
            let other = root.appendingPathComponent("other-keys-\(attempt)")
            #expect(
                try RetractBinary(workingDirectory: root).run(["keys", "init", "--keys-dir", other.path]).status == 0)
            name = try #require(try FileManager.default.contentsOfDirectory(atPath: other.path).first)
            if name > "master-\(old).key" {
                try FileManager.default.moveItem(
                    at: other.appendingPathComponent(name),
                    to: root.appendingPathComponent("keys").appendingPathComponent(name))
            }
        }
        #expect(name > "master-\(old).key")
        let refused = try cli.run(["keys", "retire", old])
        #expect(refused.status == 1)
        #expect(
            refused.stderr
                == "retract: error: master key \(old) still seals 4 live values; run `retract keys rotate` first, then retire it\n"
        )
        #expect(try keyFiles().contains("master-\(old).key"))
        // rotate finishes under the hand-made key rather than making a third.
        let rotate = try cli.run(["keys", "rotate"])
        #expect(rotate.stdout.contains("finished the rotation to master key"), "\(rotate.stdout)")
        #expect(try cli.run(["keys", "retire", old]).status == 0)
    }

    @Test("serve refuses to start with a key directory that lacks a key the vault needs, naming it")
    func missingKeyRefusesStart() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        _ = try sendLinks(count: 2, base: "http://127.0.0.1:9")
        let old = try #require(try keyList().first?["kid"] as? String)
        let other = root.appendingPathComponent("other-keys")
        #expect(try cli.run(["keys", "init", "--keys-dir", other.path]).status == 0)
        let refused = try cli.run(["serve", "--port", "0", "--keys-dir", other.path])
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("the vault needs master key \(old), missing from \(other.path)"),
            "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
    }

    @Test("RETRACT_KEY_ROTATION makes serve rotate and then retire the old key on its own; every link still opens")
    func scheduledRotation() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        var scheduled = cli
        scheduled.environment["RETRACT_KEY_ROTATION"] = "2s"
        let (server, port) = try scheduled.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        let links = try sendLinks(count: 5, base: base)
        let first = try #require(try keyFiles().first)
        // Wait (polling the key directory, bounded) until the first key has been retired.
        var files = try keyFiles()
        for _ in 0..<600 where files.contains(first) {
            try await Task.sleep(for: .milliseconds(100))
            files = try keyFiles()
        }
        #expect(!files.contains(first), "\(files)")
        #expect(try keyList().allSatisfy { $0["state"] as? String != "missing" })
        for link in links {
            #expect(try await open(link, base) == 200)
        }
    }

    @Test("RETRACT_KEY_ROTATION that is not a duration is one line at start")
    func badRotationSetting() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        var bad = cli
        bad.environment["RETRACT_KEY_ROTATION"] = "daily"
        let refused = try bad.run(["serve", "--port", "0"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("RETRACT_KEY_ROTATION \"daily\" is not a duration"), "\(refused.stderr)")
    }
}
