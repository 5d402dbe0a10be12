import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractTestSupport
import Seal
import Testing

@testable import RetractServer

/// `GET /metrics`: what an operator's Prometheus scrapes. Each test counts into a registry of
/// its own (`MetricsExport()` and the service's `metrics` handle over it), so no test sees
/// another's counts and none touches swift-metrics' global system.
@Suite("Prometheus metrics on /metrics")
struct MetricsRouteTests {
    /// A service counting into `export`'s registry, and a message sent to Bob and Carol.
    struct Fixture {
        let bench: TestBench
        let export: MetricsExport
        let service: RetractService
        let receipt: SendReceipt

        init() async throws {
            bench = try TestBench()
            export = MetricsExport()
            var service = bench.service
            service.metrics = export.metrics
            self.service = service
            receipt = try await service.send(
                Draft(
                    from: "Alice <alice@corp.test>", to: ["bob@partner.test", "carol@partner.test"],
                    subject: "Quarterly numbers", body: "Hello Bob"))
        }

        func link(_ index: Int) throws -> Link { try Link.parse(receipt.recipients[index].link) }

        func router() async throws -> Router<RetractRequestContext> {
            try await buildRouter(service: service, metrics: export)
        }
    }

    /// Runs Debian's `promtool check metrics` on `text`; its exit status and output.
    static func promtool(_ text: String) throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("metrics.txt")
        try Data(text.utf8).write(to: input)
        let output = directory.appendingPathComponent("out.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "metrics"]
        process.standardInput = try FileHandle(forReadingFrom: input)
        let sink = try FileHandle(forWritingTo: output)
        process.standardOutput = sink
        process.standardError = sink
        try process.runSafely()
        process.waitUntilExit()
        try sink.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    @Test(
        "a send, two opens, a revocation and the HTTP requests are counted by outcome and route template; the output passes promtool and names no token, key, address or subject"
    )
    func countsEvents() async throws {
        let fixture = try await Fixture()
        let bob = try fixture.link(0)
        let text = try await Application(router: try await fixture.router()).test(.router) { client in
            // Bob opens with his key; someone tries Carol's token with Bob's key.
            let opened = try await client.execute(
                uri: "/m/\(bob.token.base64url)/open", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "key=\(bob.linkKey.base64url)"))
            #expect(opened.status == .ok)
            let carol = try fixture.link(1)
            let wrong = try await client.execute(
                uri: "/m/\(carol.token.base64url)/open", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "key=\(bob.linkKey.base64url)"))
            #expect(wrong.status == .forbidden)
            _ = try await fixture.service.revoke(
                RevokeRequest(messageID: fixture.receipt.messageID, reason: "sent by mistake"))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            HealthRoutesTests.expectStrictHeaders(metrics)
            return String(buffer: metrics.body)
        }
        #expect(PrometheusText.sample(text, "retract_sends_total") == 1)
        #expect(PrometheusText.sample(text, "retract_send_recipients_total") == 2)
        #expect(PrometheusText.sample(text, #"retract_opens_total{outcome="opened"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_opens_total{outcome="invalid_key"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_revokes_total{outcome="revoked_after_open"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_revokes_total{outcome="revoked_before_open"}"#) == 1)
        // Two notifications, then two notices and the sender's report, all through the file outbox.
        #expect(PrometheusText.sample(text, #"retract_smtp_deliveries_total{outcome="delivered",reply_class="2xx"}"#) == 5)
        #expect(PrometheusText.sample(text, #"retract_notices_total{kind="correction"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_notices_total{kind="withdrawal"}"#) == 1)
        #expect(
            PrometheusText.sample(text, #"retract_http_requests_total{route="/m/{token}/open",method="POST",status="200"}"#) == 1)
        #expect(
            PrometheusText.sample(text, #"retract_http_requests_total{route="/m/{token}/open",method="POST",status="403"}"#) == 1)
        #expect(
            PrometheusText.sample(text, #"retract_http_request_duration_seconds_count{route="/m/{token}/open",method="POST"}"#)
                == 2)
        #expect(PrometheusText.sample(text, "retract_outbox_depth") == 0)
        #expect(PrometheusText.sample(text, "retract_outbox_oldest_due_age_seconds") == 0)
        #expect(PrometheusText.sample(text, "retract_keys") == 1)
        #expect(PrometheusText.sample(text, "retract_key_active_age_seconds") != nil)
        // Revoked grants' shares are destroyed: the key seals none.
        #expect(text.contains("retract_key_shares{kid="))
        for secret in [
            bob.token.base64url, bob.linkKey.base64url, try fixture.link(1).token.base64url, "bob@", "carol@",
            "partner.test", "alice@", "Quarterly",
        ] {
            #expect(!text.contains(secret), "the metrics must not contain \(secret.prefix(6))…")
        }
        let check = try Self.promtool(text)
        #expect(check.status == 0, "promtool check metrics: \(check.output)")
    }

    @Test("the outbox gauges show mail waiting: depth, and the age of the oldest due mail")
    func outboxGauges() async throws {
        let bench = try TestBench()
        let export = MetricsExport()
        var service = bench.service
        service.metrics = export.metrics
        // Queued, not delivered: revokeQueuingNotices leaves the notices in the outbox.
        let receipt = try await service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        _ = try await service.revokeQueuingNotices(RevokeRequest(messageID: receipt.messageID))
        bench.clock.advance(90)
        try await Application(router: try await buildRouter(service: service, metrics: export)).test(.router) {
            client in
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let depth = PrometheusText.sample(text, "retract_outbox_depth") ?? 0
            #expect(depth >= 1)
            #expect((PrometheusText.sample(text, "retract_outbox_oldest_due_age_seconds") ?? 0) >= 90)
        }
    }

    @Test(
        "with a metrics address of its own, the public port has no /metrics; the metrics router has it, with the strict headers"
    )
    func separateAddress() async throws {
        let fixture = try await Fixture()
        let export = MetricsExport(registry: fixture.export.registry, listen: (host: "127.0.0.1", port: 0))
        try await Application(router: try await buildRouter(service: fixture.service, metrics: export)).test(.router) {
            client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .notFound)
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
        }
        try await Application(router: export.router(service: fixture.service)).test(.router) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            HealthRoutesTests.expectStrictHeaders(metrics)
            let text = String(buffer: metrics.body)
            // The public port's requests were counted, its refused /metrics too.
            #expect(
                PrometheusText.sample(text, #"retract_http_requests_total{route="/healthz",method="GET",status="200"}"#) == 1)
            #expect(PrometheusText.sample(text, "retract_sends_total") == 1)
        }
    }

    @Test("a refused attempt is counted by its limit's scope, never by its subject")
    func rateLimitHits() async throws {
        let bench = try TestBench()
        let export = MetricsExport()
        let limiter = RateLimiter(vault: bench.service.vault, metrics: export.metrics)
        try await limiter.recordFailure(scope: "sign-in-client", subject: "203.0.113.7", at: bench.clock.now)
        let wait = try await limiter.retryAfter(
            scope: "sign-in-client", subject: "203.0.113.7", limit: 1, window: 60, now: bench.clock.now)
        #expect(wait != nil)
        let text = export.registry.emitToString()
        #expect(PrometheusText.sample(text, #"retract_rate_limit_hits_total{scope="sign-in-client"}"#) == 1)
        #expect(!text.contains("203.0.113.7"))
    }
}
