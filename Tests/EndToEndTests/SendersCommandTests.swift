import Foundation
import RetractTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("End to end: `retract senders` and the first sender of `retract init`", .serialized)
struct SendersCommandTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-senders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root, environment: ["RETRACT_ADMIN": "ops@corp.test"])
    }

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// Runs `retract arguments…` with `input` on standard input (a pipe, not a terminal).
    func run(_ arguments: [String], input: String) throws -> RetractBinary.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RetractBinary.path)
        process.arguments = arguments
        process.currentDirectoryURL = root
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RETRACT_") }
        let stdin = Pipe()
        let out = Pipe()
        let err = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.runSafely()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RetractBinary.Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The status of `GET /api/v1/messages` with this bearer token.
    func apiStatus(_ base: String, token: String) async throws -> Int {
        var request = URLRequest(url: URL(string: "\(base)/api/v1/messages")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as! HTTPURLResponse).statusCode
    }

    func vaultFiles() throws -> [UInt8] {
        var bytes: [UInt8] = []
        for name in ["vault.sqlite", "vault.sqlite-wal"] {
            let url = root.appendingPathComponent(".retract").appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { bytes += [UInt8](try Data(contentsOf: url)) }
        }
        return bytes
    }

    @Test("init prints the first sender's token and password once; they work and are not stored")
    func initPrintsAdminOnce() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try cli.run(["init"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("address:   ops@corp.test"))
        let token =
            try #require(first.stdout.split(separator: "\n").first { $0.contains("API token: ") })
            .components(separatedBy: "API token: ").last ?? ""
        let password =
            try #require(first.stdout.split(separator: "\n").first { $0.contains("password:  ") })
            .components(separatedBy: "password:  ").last ?? ""
        #expect(token.hasPrefix("rt_") && token.count == 46)
        #expect(password.count >= 10)

        let second = try cli.run(["init"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stdout.contains("API token"))
        #expect(!second.stdout.contains("password"))
        #expect(!second.stdout.contains(token) && !second.stdout.contains(password))

        let files = try vaultFiles()
        let holdsToken = files.contains(bytes: Array(token.utf8))
        let holdsPassword = files.contains(bytes: Array(password.utf8))
        #expect(!holdsToken)
        #expect(!holdsPassword)

        let list = try json(try cli.run(["senders", "list", "--json"]).stdout) as! [[String: Any]]
        #expect(list.map { $0["address"] as? String } == ["ops@corp.test"])
        #expect(list.first?["has_password"] as? Bool == true)

        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        #expect(try await apiStatus("http://127.0.0.1:\(port)", token: token) == 200)
    }

    @Test("add prints the token once, a duplicate is refused, token replaces it, remove ends it")
    func tokenLifecycle() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["senders", "add", "alice@corp.test", "--name", "Alice", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let output = try json(added.stdout) as! [String: Any]
        #expect(output["address"] as? String == "alice@corp.test")
        #expect(output["name"] as? String == "Alice")
        let token = try #require(output["token"] as? String)
        #expect(token.hasPrefix("rt_"))

        let plain = try cli.run(["senders", "add", "bob@corp.test"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("rt_"))

        let duplicate = try cli.run(["senders", "add", "Alice@corp.test"])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("retract: error: a sender Alice@corp.test already exists"))

        let list = try cli.run(["senders", "list", "--json"])
        let addresses = (try json(list.stdout) as! [[String: Any]]).compactMap { $0["address"] as? String }
        #expect(addresses == ["ops@corp.test", "alice@corp.test", "bob@corp.test"])
        #expect(!list.stdout.contains(token) && !list.stdout.contains("rt_"))

        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        #expect(try await apiStatus(base, token: token) == 200)

        let rotated = try cli.run(["senders", "token", "alice@corp.test", "--json"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let newToken = try #require((try json(rotated.stdout) as! [String: Any])["token"] as? String)
        #expect(newToken != token)
        #expect(try await apiStatus(base, token: token) == 401)
        #expect(try await apiStatus(base, token: newToken) == 200)

        let removed = try cli.run(["senders", "remove", "alice@corp.test"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try await apiStatus(base, token: newToken) == 401)
        let gone = try cli.run(["senders", "remove", "alice@corp.test"])
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("no sender alice@corp.test"))
    }

    @Test("passwd takes one line from a pipe, refuses a short one, and --generate prints a new one")
    func passwordFromPipe() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["senders", "add", "alice@corp.test"]).status == 0)
        func hasPassword() throws -> Bool? {
            let list = try json(try cli.run(["senders", "list", "--json"]).stdout) as! [[String: Any]]
            return list.first { $0["address"] as? String == "alice@corp.test" }?["has_password"] as? Bool
        }
        #expect(try hasPassword() == false)

        let short = try run(["senders", "passwd", "alice@corp.test"], input: "short\n")
        #expect(short.status == 1)
        #expect(short.stderr.contains("at least") || short.stderr.contains("10 to"))
        #expect(try hasPassword() == false)

        let piped = try run(["senders", "passwd", "alice@corp.test"], input: "a long enough password\n")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(!piped.stdout.contains("a long enough password"))
        #expect(try hasPassword() == true)

        let generated = try run(["senders", "passwd", "alice@corp.test", "--generate"], input: "")
        #expect(generated.status == 0, "\(generated.stderr)")
        let password = generated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(password.count == 24)

        let unknown = try run(["senders", "passwd", "ghost@corp.test"], input: "a long enough password\n")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no sender ghost@corp.test"))
    }
}
