import Foundation
import RetractCore
import RetractServer
import RetractTestSupport
import ServiceLifecycle
import Testing

/// The HTTP connection limits of `retract serve`, proven over real loopback connections that
/// the test drives byte by byte (no HTTP client in between), with short limits configured.
/// Nothing here asserts a duration: each test waits, with generous bounds, for the server to
/// close (or answer) a connection, and fails if that never happens.
@Suite("HTTP connection limits over real loopback connections", .serialized)
struct HTTPConnectionLimitsLiveTests {
    struct Arguments: ServerArguments {
        var host = "127.0.0.1"
        var port = 0
        var connectionLimits: HTTPConnectionLimits
    }

    /// Limits that no test reaches unless it means to: one each test shortens.
    static func roomyLimits() -> HTTPConnectionLimits {
        var limits = HTTPConnectionLimits()
        limits.idleTimeout = .seconds(120)
        limits.headerTimeout = .seconds(120)
        limits.bodyTimeout = .seconds(120)
        return limits
    }

    /// Runs `body` against the application `retract serve` builds, listening on a free port.
    /// `token` is the API token of a sender added for the purpose.
    static func withServer(
        _ limits: HTTPConnectionLimits, bench given: TestBench? = nil,
        _ body: @Sendable (_ port: Int, _ token: String) async throws -> Void
    ) async throws {
        let bench = try given ?? TestBench()
        let token = try bench.service.addSender(address: "api-client@corp.test", name: nil).token
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(
            Arguments(connectionLimits: limits), service: bench.service,
            onServerRunning: { port in announce.yield(port) })
        let services = ServiceGroup(configuration: .init(services: [app], logger: app.logger))
        // A server that stops, or never listens, ends the wait for its port: the test then
        // fails with "never listened" instead of hanging the suite.
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(60))
            announce.finish()
        }
        defer { watchdog.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { announce.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw RawConnection.Failure("the server never listened") }
            do {
                try await body(port, token)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
        }
    }

    static let healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    @Test("a connection idle after its answers is closed after the idle timeout; while in use it is kept")
    func idleConnectionIsClosed() async throws {
        var limits = Self.roomyLimits()
        // 5 s, not 1: two requests back to back on a machine that runs the whole suite in
        // parallel once took over a second between open and send; the close may take longer.
        limits.idleTimeout = .seconds(5)
        try await Self.withServer(limits) { port, _ in
            let connection = try await RawConnection.open(port: port)
            for _ in 0..<2 {
                try await connection.send(Self.healthz)
                let answer = try await connection.receive(until: "{\"status\":\"ok\"}", within: 30)
                #expect(answer.hasPrefix("HTTP/1.1 200"))
            }
            #expect(try await connection.closedByServer(within: 30))
        }
    }

    @Test("a request head sent one byte at a time is cut off at the header timeout, unanswered")
    func slowHeadIsCutOff() async throws {
        var limits = Self.roomyLimits()
        limits.headerTimeout = .seconds(1)
        try await Self.withServer(limits) { port, _ in
            let connection = try await RawConnection.open(port: port)
            // 80 bytes at four a second: 20 s, far past the 1 s the head may take.
            let head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 40))\r\n\r\n"
            let result = try await connection.dribble(head, pause: 0.25)
            #expect(result.closedAfter < head.utf8.count, "the whole head went through")
            #expect(!result.received.contains("HTTP/1.1"))
        }
    }

    @Test("a request body slower than the minimum rate is cut off after the body timeout, unanswered")
    func slowBodyIsCutOff() async throws {
        var limits = Self.roomyLimits()
        limits.bodyTimeout = .seconds(1)
        limits.minimumBodyRate = 1000
        try await Self.withServer(limits) { port, token in
            let body = #"{"to":["bob@partner.test"],"subject":"S","body":"\#(String(repeating: "b", count: 60))"}"#
            let head =
                "POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            // At full speed the same request is answered.
            let quick = try await RawConnection.open(port: port)
            try await quick.send(head + body)
            #expect(try await quick.receive(until: "\r\n\r\n", within: 30).hasPrefix("HTTP/1.1 201"))
            // A byte every quarter second (4 bytes/s, below 1,000) is cut off long before its end.
            let slow = try await RawConnection.open(port: port)
            try await slow.send(head)
            let result = try await slow.dribble(body, pause: 0.25)
            #expect(result.closedAfter < body.utf8.count, "the whole body went through")
            #expect(!result.received.contains("HTTP/1.1"))
        }
    }

    @Test("connections beyond the per-address cap are closed unanswered; other addresses are served; a closed one frees its place")
    func perClientCap() async throws {
        var limits = Self.roomyLimits()
        limits.maxConnectionsPerClient = 2
        try await Self.withServer(limits) { port, _ in
            var held: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try await RawConnection.open(port: port)
                try await connection.send(Self.healthz)
                #expect(try await connection.receive(until: "{\"status\":\"ok\"}", within: 30).hasPrefix("HTTP/1.1 200"))
                held.append(connection)
            }
            // The third from 127.0.0.1 is closed without an answer …
            let third = try await RawConnection.open(port: port)
            try? await third.send(Self.healthz)
            #expect(try await third.closedByServer(within: 30))
            // … while 127.0.0.2 is served.
            let other = try await RawConnection.open(port: port, from: "127.0.0.2")
            try await other.send(Self.healthz)
            #expect(try await other.receive(until: "{\"status\":\"ok\"}", within: 30).hasPrefix("HTTP/1.1 200"))
            // Once one of the two closes, 127.0.0.1 gets a connection again.
            held.removeFirst().close()
            var served = false
            for _ in 0..<100 where !served {
                let again = try await RawConnection.open(port: port)
                try? await again.send(Self.healthz)
                served = (try? await again.receive(until: "{\"status\":\"ok\"}", within: 30))?.hasPrefix("HTTP/1.1 200") == true
                if !served { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(served)
        }
    }

    @Test("beyond the total cap a new connection waits, unanswered, until an open one closes")
    func totalCap() async throws {
        var limits = Self.roomyLimits()
        limits.maxConnections = 2
        try await Self.withServer(limits) { port, _ in
            let first = try await RawConnection.open(port: port, from: "127.0.0.1")
            let second = try await RawConnection.open(port: port, from: "127.0.0.2")
            for connection in [first, second] {
                try await connection.send(Self.healthz)
                #expect(try await connection.receive(until: "{\"status\":\"ok\"}", within: 30).hasPrefix("HTTP/1.1 200"))
            }
            // The kernel completes the third connection's handshake, but the server does not accept it.
            let third = try await RawConnection.open(port: port, from: "127.0.0.3")
            try await third.send(Self.healthz)
            // A full round trip on an accepted connection, sent after the third's request …
            try await second.send(Self.healthz)
            #expect(try await second.receive(until: "{\"status\":\"ok\"}", within: 30).hasPrefix("HTTP/1.1 200"))
            // … and still nothing for the third. (Absence needs a window: a server without the
            // cap answers /healthz in milliseconds, so a second of silence shows the wait; a
            // server with the cap never fails this however slow the machine.)
            #expect(try await third.silent(for: 1))
            first.close()
            #expect(try await third.receive(until: "{\"status\":\"ok\"}", within: 30).hasPrefix("HTTP/1.1 200"))
        }
    }
}
