import CoreMetrics
import Prometheus

/// The swift-metrics backend of `retract serve`: every counter, gauge and timer lands in one
/// Prometheus registry, under the help text `RetractMetric` gives its name.
///
/// swift-prometheus's own factory registers every metric with an empty help, and
/// `promtool check metrics` rejects a metric without one; this factory asks the registry
/// with the catalogue's help instead (a library's metric outside it gets a generic one, the
/// same for every call, since the registry refuses two help texts for one name). Tests make
/// one over a registry of their own, so they never share the global one.
public struct RetractMetricsFactory: MetricsFactory, Sendable {
    /// Where the metrics are kept and emitted from.
    public let registry: PrometheusCollectorRegistry

    /// Bucket bounds of request durations: 1 ms to 10 s.
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10),
    ]

    /// A factory over `registry` (a fresh one by default).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The help text of `label`.
    static func help(_ label: String) -> String {
        RetractMetric.byName[label]?.help ?? "\(label), reported by a library."
    }

    /// A counter, under the catalogue's help.
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help(label))
    }

    /// A counter of fractional amounts, under the catalogue's help.
    public func makeFloatingPointCounter(
        label: String, dimensions: [(String, String)]
    ) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help(label))
    }

    /// A gauge (not aggregated) or a value histogram, under the catalogue's help.
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: Self.help(label)) }
        return registry.makeValueHistogram(
            name: label, labels: dimensions, buckets: [1, 10, 100, 1000, 10000], help: Self.help(label))
    }

    /// A gauge, under the catalogue's help.
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: Self.help(label))
    }

    /// A duration histogram with `durationBuckets`, under the catalogue's help.
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            name: label, labels: dimensions, buckets: Self.durationBuckets, help: Self.help(label))
    }

    /// Removes a counter from the registry.
    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    /// Removes a counter from the registry.
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    /// Removes a gauge or histogram from the registry.
    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    /// Removes a gauge from the registry.
    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    /// Removes a histogram from the registry.
    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
