import Foundation
import RetractTestSupport
import Testing

/// The per-client abuse limits of the built `retract serve`, spoken to with curl from two
/// loopback addresses (127.0.0.1 and 127.0.0.2), across a restart of the server.
@Suite("End to end: per-client limits of the built binary hold per address and across a restart", .serialized)
struct ClientLimitEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    typealias Answer = CurlAnswer

    /// One request with curl, its connection made from `source` (any 127/8 address is loopback).
    func curl(_ url: String, from source: String, method: String = "GET", headers: [String] = [], body: String? = nil)
        throws -> Answer
    {
        try CurlAnswer.request(url, from: source, method: method, headers: headers, body: body, scratch: root)
    }

    @Test(
        "21 wrong API tokens from one address lock it out, the right token too, across a restart; another address is not"
    )
    func apiTokenLimit() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["senders", "add", "carol@corp.test", "--json"])
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])?["token"] as? String)
        var (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var url: String { "http://127.0.0.1:\(port)/api/v1/messages" }

        // Given 20 wrong tokens from 127.0.0.1
        var statuses: [Int] = []
        for index in 0..<20 {
            statuses.append(
                try curl(url, from: "127.0.0.1", headers: ["Authorization: Bearer rt_wrong_\(index)"]).status)
        }
        #expect(statuses.allSatisfy { $0 == 401 })
        // Then the right token from that address is refused with 429 and Retry-After
        #expect(try curl(url, from: "127.0.0.1", headers: ["Authorization: Bearer \(token)"]).isLimited)
        // And another address is not affected
        #expect(try curl(url, from: "127.0.0.2", headers: ["Authorization: Bearer \(token)"]).status == 200)

        // When the server restarts on the same data directory
        server.terminate()
        server.waitUntilExit()
        (server, port) = try cli.startServer()
        // Then the limit still holds for 127.0.0.1, and only for it
        #expect(try curl(url, from: "127.0.0.1", headers: ["Authorization: Bearer \(token)"]).isLimited)
        #expect(try curl(url, from: "127.0.0.2", headers: ["Authorization: Bearer \(token)"]).status == 200)
    }

    @Test(
        "31 failed opens from one address get 429 on a link with its right key, across a restart; another address opens it"
    )
    func failedOpenLimit() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        var (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        let send = try cli.run(
            [
                "send", "--from", "alice@corp.test", "--subject", "Limits", "--body", "Opened.", "--public-url", base,
                "--show-links", "--json",
            ] + (0..<5).flatMap { ["--to", "r\($0)@partner.test"] })
        #expect(send.status == 0, "\(send.stderr)")
        let receipt = try #require(try JSONSerialization.jsonObject(with: Data(send.stdout.utf8)) as? [String: Any])
        let links = try #require((receipt["recipients"] as? [[String: Any]])?.compactMap { $0["link"] as? String })
        try #require(links.count == 5)
        let parts = links.map { $0.split(separator: "#").map(String.init) }
        func open(_ index: Int, key: String, from source: String, port: Int) throws -> Answer {
            let token = parts[index][0].split(separator: "/").last.map(String.init) ?? ""
            return try curl(
                "http://127.0.0.1:\(port)/m/\(token)/open", from: source, method: "POST",
                headers: ["Content-Type: application/json"], body: "{\"key\":\"\(key)\"}")
        }
        let wrongKey = String(repeating: "A", count: 43)

        // Given 30 wrong keys from 127.0.0.1 spread over four links (each below its own limit of 10)
        var statuses: [Int] = []
        for index in 0..<30 {
            statuses.append(try open(index % 4, key: wrongKey, from: "127.0.0.1", port: port).status)
        }
        #expect(statuses.allSatisfy { $0 == 403 })
        // Then the fifth link with its right key is refused from that address
        let refused = try open(4, key: parts[4][1], from: "127.0.0.1", port: port)
        #expect(refused.isLimited)
        #expect(refused.body.contains("too_many_attempts"))

        // When the server restarts on the same data directory
        server.terminate()
        server.waitUntilExit()
        (server, port) = try cli.startServer()
        // Then 127.0.0.1 is still refused, and 127.0.0.2 opens the message
        #expect(try open(4, key: parts[4][1], from: "127.0.0.1", port: port).isLimited)
        let opened = try open(4, key: parts[4][1], from: "127.0.0.2", port: port)
        #expect(opened.status == 200)
        #expect(opened.body.contains("Opened."))
    }
}
