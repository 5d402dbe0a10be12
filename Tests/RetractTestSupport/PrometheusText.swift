/// Reading Prometheus' text exposition format in tests.
public enum PrometheusText {
    /// The value of the sample `series` (name and labels exactly as emitted), nil when absent.
    public static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
