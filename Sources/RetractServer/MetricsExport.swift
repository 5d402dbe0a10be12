import Hummingbird
import NIOCore
import Prometheus
import RetractCore
import RetractMetrics

/// The Prometheus registry a running service exports on `GET /metrics`, and how.
///
/// `retract serve` makes one over the registry it bootstrapped swift-metrics with, so the
/// counters counted anywhere (`RetractMetrics.global`) and the HTTP middleware's land in the
/// same place; a test makes one over a registry of its own and gives its service the same
/// handle (`metrics`), so tests never share counts. On the public port unless `listen`
/// names a separate address (`--metrics-listen`), where nothing else is served.
public struct MetricsExport: Sendable {
    /// Where the metrics are kept.
    public let registry: PrometheusCollectorRegistry
    /// The separate address `/metrics` is served on, or nil for the public port.
    public var listen: (host: String, port: Int)?

    /// An export of `registry` (a fresh one by default), on the public port unless `listen` is given.
    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), listen: (host: String, port: Int)? = nil
    ) {
        self.registry = registry
        self.listen = listen
        metrics.primeZeroSeries()
    }

    /// The counting handle over this registry.
    public var metrics: RetractMetrics { RetractMetrics(factory: RetractMetricsFactory(registry: registry)) }

    /// The Prometheus text exposition format's content type.
    static var contentType: String { "text/plain; version=0.0.4; charset=utf-8" }

    /// Adds `GET /metrics` to `router`: sets the scrape-time gauges from `service`'s vault,
    /// then answers the registry's text. Carries no secret: labels are route templates,
    /// outcomes, scopes and key ids.
    func addRoute<Context: RequestContext>(to router: Router<Context>, service: RetractService) {
        let metrics = self.metrics
        let registry = self.registry
        router.get("metrics") { _, _ -> Response in
            service.updateStateGauges(into: metrics)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: Self.contentType],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    /// The router of the separate metrics address: `/metrics` alone, with the security
    /// headers of every response.
    func router(service: RetractService) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware(publicURL: service.configuration.publicURL))
        addRoute(to: router, service: service)
        return router
    }
}
