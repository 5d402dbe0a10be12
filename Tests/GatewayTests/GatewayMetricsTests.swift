import Foundation
import Prometheus
import RetractCore
import RetractMetrics
import RetractTestSupport
import Testing

@testable import Gateway
@testable import SMTP

/// The gateway counts what it does with each message: accepted, sealed, passed through,
/// refused; never by address or subject.
@Suite("Gateway metrics")
struct GatewayMetricsTests {
    @Test(
        "a message with outside and inside recipients counts accepted, sealed and passed through; an outside sender refused"
    )
    func countsOutcomes() async throws {
        let bench = try GatewayAcceptorTests.bench()
        let registry = PrometheusCollectorRegistry()
        var service = bench.service
        service.metrics = RetractMetrics(factory: RetractMetricsFactory(registry: registry))
        let acceptor = GatewayAcceptor(service: service)
        let mixed = try GatewayAcceptorTests.received(
            bench, bytes: GatewayAcceptorTests.original(), recipients: ["bob@partner.test", "carol@corp.test"])
        _ = try GatewayAcceptorTests.messageID(await acceptor.accept(mixed))
        let outsider = try GatewayAcceptorTests.received(
            bench,
            bytes: Array(
                "From: Mallory <mallory@evil.test>\r\nTo: bob@partner.test\r\nSubject: hi\r\n\r\nhello\r\n".utf8),
            recipients: ["bob@partner.test"])
        guard case .permanentFailure = await acceptor.accept(outsider) else {
            Issue.record("the outside sender was not refused")
            return
        }
        let text = registry.emitToString()
        #expect(PrometheusText.sample(text, #"retract_gateway_messages_total{outcome="accepted"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_gateway_messages_total{outcome="sealed"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_gateway_messages_total{outcome="passed_through"}"#) == 1)
        #expect(PrometheusText.sample(text, #"retract_gateway_messages_total{outcome="refused"}"#) == 1)
        for personal in ["partner.test", "corp.test", "evil.test", "Quarterly"] {
            #expect(!text.contains(personal))
        }
    }
}
