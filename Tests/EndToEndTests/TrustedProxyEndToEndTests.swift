import Foundation
import RetractTestSupport
import Testing

/// The built `retract serve` behind a load balancer: 127.0.0.2 plays the proxy
/// (`--trusted-proxies 127.0.0.2/32`), 127.0.0.1 a client that reaches the node directly,
/// both spoken to with curl from their own loopback address.
@Suite("End to end: retract serve believes X-Forwarded-For only from its trusted proxies", .serialized)
struct TrustedProxyEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-proxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
        try #require(cli.run(["init"]).status == 0)
    }

    @Test(
        "a trusted-proxy setting that does not parse stops serve with one line naming it",
        arguments: [
            (["--trusted-proxies", "10.0.0.0/33"], [:], "--trusted-proxies"),
            ([], ["RETRACT_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"], "RETRACT_TRUSTED_PROXIES"),
            (
                ["--trusted-proxies", "10.0.0.0/8"], ["RETRACT_FORWARDED_HEADER": "X-Real-IP"],
                "RETRACT_FORWARDED_HEADER"
            ),
            (["--forwarded-header", "x-real-ip"], [:], "--forwarded-header"),
        ])
    func badSettingStopsServe(_ extra: [String], _ environment: [String: String], _ named: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var cli = self.cli
        cli.environment.merge(environment) { _, new in new }
        // A serve that ignored the setting would start listening (and never exit on its own).
        if let started = try? cli.startServer(extra: extra) {
            started.0.terminate()
            started.0.waitUntilExit()
            Issue.record("retract serve started despite \(extra) \(environment)")
            return
        }
        let result = try cli.run(["serve", "--host", "127.0.0.1", "--port", "0"] + extra)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(named), "\(result.stderr)")
    }

    @Test(
        "clients forwarded by the trusted proxy get their own open budget; a direct client's forged header changes nothing"
    )
    func forwardedAndSpoofedClients() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (server, port) = try cli.startServer(extra: ["--trusted-proxies", "127.0.0.2/32"])
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        // Two messages of five links each: a link refuses everyone after 10 wrong keys, so each
        // phase spreads its 30 over four fresh links.
        func sendFive(_ subject: String) throws -> [[String]] {
            let send = try cli.run(
                [
                    "send", "--from", "alice@corp.test", "--subject", subject, "--body", "Opened.", "--public-url",
                    base, "--show-links", "--json",
                ] + (0..<5).flatMap { ["--to", "r\($0)@partner.test"] })
            #expect(send.status == 0, "\(send.stderr)")
            let receipt = try #require(
                try JSONSerialization.jsonObject(with: Data(send.stdout.utf8)) as? [String: Any])
            let links = try #require(
                (receipt["recipients"] as? [[String: Any]])?.compactMap { $0["link"] as? String })
            try #require(links.count == 5)
            return links.map { $0.split(separator: "#").map(String.init) }
        }
        var parts = try sendFive("Through the proxy")
        let wrongKey = String(repeating: "A", count: 43)
        func open(_ index: Int, key: String? = nil, from source: String, forwardedFor: String?) throws -> CurlAnswer {
            let token = parts[index][0].split(separator: "/").last.map(String.init) ?? ""
            var headers = ["Content-Type: application/json"]
            if let forwardedFor { headers.append("X-Forwarded-For: \(forwardedFor)") }
            return try CurlAnswer.request(
                "\(base)/m/\(token)/open", from: source, method: "POST", headers: headers,
                body: "{\"key\":\"\(key ?? wrongKey)\"}", scratch: root)
        }

        // Given 30 wrong keys that the proxy forwarded for 203.0.113.7, over four links
        for index in 0..<30 {
            #expect(try open(index % 4, from: "127.0.0.2", forwardedFor: "203.0.113.7").status == 403)
        }
        // Then 203.0.113.7 is refused through the proxy, even with the right key
        #expect(try open(4, key: parts[4][1], from: "127.0.0.2", forwardedFor: "203.0.113.7").isLimited)
        // And another client behind the same proxy opens the message
        let other = try open(4, key: parts[4][1], from: "127.0.0.2", forwardedFor: "203.0.113.8")
        #expect(other.status == 200)
        #expect(other.body.contains("Opened."))
        // And a direct client that claims to be 203.0.113.7 is counted as itself: not refused
        #expect(try open(4, key: parts[4][1], from: "127.0.0.1", forwardedFor: "203.0.113.7").status == 200)

        // When that direct client sends 30 wrong keys to another message, each with a fresh forged address
        parts = try sendFive("Direct")
        for index in 0..<30 {
            #expect(try open(index % 4, from: "127.0.0.1", forwardedFor: "198.51.100.\(index)").status == 403)
        }
        // Then it is refused under yet another forged address
        #expect(try open(4, key: parts[4][1], from: "127.0.0.1", forwardedFor: "192.0.2.99").isLimited)
    }

    @Test("/healthz and /readyz answer a load balancer without credentials, with the strict CSP")
    func healthRoutes() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (server, port) = try cli.startServer(extra: ["--trusted-proxies", "127.0.0.2/32"])
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let health = try CurlAnswer.request("http://127.0.0.1:\(port)/healthz", from: "127.0.0.2", scratch: root)
        #expect(health.status == 200)
        #expect(health.body == #"{"status":"ok"}"#)
        let ready = try CurlAnswer.request("http://127.0.0.1:\(port)/readyz", from: "127.0.0.2", scratch: root)
        #expect(ready.status == 200)
        #expect(ready.body == "ready\n")
        #expect(ready.headers["content-security-policy"]?.hasPrefix("default-src 'none'") == true)
    }
}
