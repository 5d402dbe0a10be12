import CoreMetrics

/// Where Retract counts what happens: one line at each event, `metrics.count(.sends)`.
///
/// The global handle (`.global`) goes through swift-metrics' `MetricsSystem`, which
/// `retract serve` bootstraps once with a `RetractMetricsFactory`; until then (the CLI's
/// one-shot commands) every count is dropped at no cost. A test gives its service a handle
/// over a registry of its own (`RetractMetrics(factory:)`), so tests never share counts.
public struct RetractMetrics: Sendable {
    /// The factory to use; nil means swift-metrics' global one, read at each count so a
    /// handle made before the bootstrap still reaches it.
    private let factory: (any MetricsFactory)?

    /// The handle over `MetricsSystem.factory`.
    public static let global = RetractMetrics(factory: nil)

    /// A handle over `factory` (a test's own registry).
    public init(factory: (any MetricsFactory)?) {
        self.factory = factory
    }

    /// Adds `amount` to the counter `metric` with `labels` (fixed words, never personal data).
    public func count(_ metric: RetractMetric, _ labels: KeyValuePairs<String, String> = [:], by amount: Int = 1) {
        let dimensions = labels.map { ($0.key, $0.value) }
        let counter =
            factory.map { Counter(label: metric.name, dimensions: dimensions, factory: $0) }
            ?? Counter(label: metric.name, dimensions: dimensions)
        counter.increment(by: amount)
    }

    /// Sets the gauge `metric` with `labels` to `value`.
    public func set(_ metric: RetractMetric, _ value: Double, _ labels: KeyValuePairs<String, String> = [:]) {
        let dimensions = labels.map { ($0.key, $0.value) }
        let gauge =
            factory.map { Gauge(label: metric.name, dimensions: dimensions, factory: $0) }
            ?? Gauge(label: metric.name, dimensions: dimensions)
        gauge.record(value)
    }

    /// Records `nanoseconds` in the histogram `metric` with `labels`.
    public func record(_ metric: RetractMetric, nanoseconds: Int64, _ labels: KeyValuePairs<String, String> = [:]) {
        let dimensions = labels.map { ($0.key, $0.value) }
        let timer =
            factory.map { Timer(label: metric.name, dimensions: dimensions, factory: $0) }
            ?? Timer(label: metric.name, dimensions: dimensions)
        timer.recordNanoseconds(nanoseconds)
    }

    /// Creates at zero the series alerts watch, so `rate()` and `increase()` see them from the
    /// first scrape instead of from the first event.
    public func primeZeroSeries() {
        count(.sends, by: 0)
        count(.sendRecipients, by: 0)
        for outcome in ["opened", "invalid_key", "not_found", "revoked", "expired", "too_many_attempts"] {
            count(.opens, ["outcome": outcome], by: 0)
        }
        for outcome in ["revoked_before_open", "revoked_after_open", "cancelled_before_delivery"] {
            count(.revokes, ["outcome": outcome], by: 0)
        }
        for (outcome, reply) in [("delivered", "2xx"), ("deferred", "4xx"), ("failed", "5xx")] {
            count(.smtpDeliveries, ["outcome": outcome, "reply_class": reply], by: 0)
        }
        for outcome in ["accepted", "sealed", "passed_through", "refused"] {
            count(.gatewayMessages, ["outcome": outcome], by: 0)
        }
    }

    /// The relay reply class of an SMTP reply line ("2xx", "4xx", "5xx"), "none" without one.
    public static func replyClass(_ reply: String?) -> String {
        guard let first = reply?.trimmingPrefixSpaces.first, ("2"..."5").contains(first) else { return "none" }
        return "\(first)xx"
    }
}

extension String {
    fileprivate var trimmingPrefixSpaces: Substring { self.drop { $0 == " " } }
}
