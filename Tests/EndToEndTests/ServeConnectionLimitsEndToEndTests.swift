import Foundation
import RetractTestSupport
import Testing

/// The built `retract serve` takes its HTTP connection limits from the environment
/// (docs/operations.md "HTTP connections").
@Suite("End to end: retract serve reads its HTTP connection limits from the environment", .serialized)
struct ServeConnectionLimitsEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
        try #require(cli.run(["init"]).status == 0)
    }

    @Test(
        "an unacceptable limit stops serve with an error naming the variable",
        arguments: [
            ("RETRACT_HTTP_IDLE_TIMEOUT", "0s"), ("RETRACT_HTTP_HEADER_TIMEOUT", "2d"),
            ("RETRACT_HTTP_BODY_TIMEOUT", "soon"), ("RETRACT_HTTP_MIN_BODY_RATE", "fast"),
            ("RETRACT_HTTP_MAX_CONNECTIONS", "0"), ("RETRACT_HTTP_MAX_CONNECTIONS_PER_CLIENT", "-1"),
        ])
    func badLimitStopsServe(_ name: String, _ value: String) async throws {
        var cli = self.cli
        cli.environment[name] = value
        // A serve that ignored the setting would start listening (and never exit on its own).
        if let started = try? cli.startServer() {
            started.0.terminate()
            started.0.waitUntilExit()
            Issue.record("retract serve started despite \(name)=\(value)")
            return
        }
        let result = try cli.run(["serve", "--host", "127.0.0.1", "--port", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains(name), "\(result.stderr)")
    }

    @Test("with RETRACT_HTTP_HEADER_TIMEOUT=1s a dribbled head is cut off, and RETRACT_HTTP_MAX_CONNECTIONS_PER_CLIENT=1 closes a second connection")
    func limitsApply() async throws {
        var cli = self.cli
        cli.environment["RETRACT_HTTP_HEADER_TIMEOUT"] = "1s"
        cli.environment["RETRACT_HTTP_MAX_CONNECTIONS_PER_CLIENT"] = "1"
        let (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        // The first connection is served (so it is surely counted) …
        let first = try await RawConnection.open(port: port)
        try await first.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(try await first.receive(until: "{\"status\":\"ok\"}", within: 30).hasPrefix("HTTP/1.1 200"))
        // … a second one from the same address is closed at once …
        let second = try await RawConnection.open(port: port)
        #expect(try await second.closedByServer(within: 30))
        // … and a head dribbled on the first is cut off at the header timeout.
        let head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 40))\r\n\r\n"
        let result = try await first.dribble(head, pause: 0.25)
        // 1 s at four bytes a second is a handful of bytes; the default 10 s would be 40.
        #expect(result.closedAfter < 20, "closed after \(result.closedAfter) bytes")
        #expect(!result.received.contains("HTTP/1.1"))
    }
}
