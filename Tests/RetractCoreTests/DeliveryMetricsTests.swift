import Foundation
@testable import Mail
import Prometheus
import RetractCore
import RetractMetrics
import RetractTestSupport
import Testing

/// The outbox worker counts each mail it hands over by outcome and by the class of the
/// relay's reply, in a registry of the test's own.
@Suite("Outbox delivery metrics")
struct DeliveryMetricsTests {
    @Test("a 421 counts as deferred 4xx, a 550 as failed 5xx, and the retried mail then as delivered 2xx")
    func countsByOutcomeAndReplyClass() async throws {
        let bench = try TestBench()
        let transport = ScriptedTransport(failures: [
            MailError.rejected.with("try later", reply: "421 4.3.2 try later", temporary: true),
            MailError.rejected.with("no such user", reply: "550 5.1.1 no such user", temporary: false),
        ])
        let registry = PrometheusCollectorRegistry()
        var service = RetractService(
            configuration: bench.configuration, vault: bench.service.vault, keys: bench.service.keys,
            templates: bench.service.templates, transport: transport, now: { bench.clock.now })
        service.metrics = RetractMetrics(factory: RetractMetricsFactory(registry: registry))
        _ = try await service.send(Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        _ = try await service.send(Draft(from: "alice@corp.test", to: ["carol@partner.test"], subject: "s", body: "b"))
        bench.clock.advance(3600)
        _ = await service.deliverDueMail()
        let text = registry.emitToString()
        #expect(PrometheusText.sample(text, #"retract_smtp_deliveries_total{outcome="deferred",reply_class="4xx"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_smtp_deliveries_total{outcome="failed",reply_class="5xx"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_smtp_deliveries_total{outcome="delivered",reply_class="2xx"}"#) == 1)
        #expect(PrometheusText.sample(text, "retract_sends_total") == 2)
        #expect(!text.contains("partner.test"))
    }

    @Test("the reply class is the first digit of the relay's reply, none without one")
    func replyClass() {
        #expect(RetractMetrics.replyClass("250 2.0.0 ok") == "2xx")
        #expect(RetractMetrics.replyClass("451 4.3.0 busy") == "4xx")
        #expect(RetractMetrics.replyClass("554 no") == "5xx")
        #expect(RetractMetrics.replyClass(nil) == "none")
        #expect(RetractMetrics.replyClass("garbage") == "none")
    }
}
