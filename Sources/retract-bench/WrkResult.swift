import Foundation

/// What one `wrk --latency` run printed: the request rate, the latency percentiles and the
/// requests that did not succeed.
///
/// wrk counts a request only when its response is complete inside the duration; a run with
/// any socket error or non-2xx/3xx answer is not a speed figure, so the benchmark refuses it.
struct WrkResult {
    /// `Requests/sec:`.
    var requestsPerSecond: Double
    /// Completed requests (`N requests in …`).
    var requests: Int
    /// Latency percentiles from the `Latency Distribution` block, seconds.
    var p50: Double
    var p90: Double
    var p99: Double
    /// `Non-2xx or 3xx responses:`, 0 when the line is absent.
    var failedResponses: Int
    /// The sum of the `Socket errors:` counts, 0 when the line is absent.
    var socketErrors: Int

    /// Parses wrk's standard output; throws naming the line it could not find.
    init(parsing output: String) throws(BenchError) {
        var rate: Double?
        var requests: Int?
        var percentiles: [String: Double] = [:]
        failedResponses = 0
        socketErrors = 0
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            if first == "Requests/sec:", words.count >= 2 {
                rate = Double(words[1])
            } else if words.count >= 3, words[1] == "requests", words[2] == "in" {
                requests = Int(first)
            } else if first.hasSuffix("%"), words.count == 2, let seconds = Self.seconds(String(words[1])) {
                percentiles[String(first)] = seconds
            } else if line.contains("Non-2xx or 3xx responses:"), let last = words.last {
                failedResponses = Int(last) ?? 0
            } else if first == "Socket", line.contains("errors:") {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                socketErrors = words.compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }
                    .reduce(0, +)
            }
        }
        guard let rate else { throw BenchError("wrk printed no 'Requests/sec:' line:\n\(output)") }
        guard let requests else { throw BenchError("wrk printed no 'N requests in' line:\n\(output)") }
        guard let p50 = percentiles["50%"], let p90 = percentiles["90%"], let p99 = percentiles["99%"] else {
            throw BenchError("wrk printed no latency distribution (was --latency given?):\n\(output)")
        }
        requestsPerSecond = rate
        self.requests = requests
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
    }

    /// A wrk duration such as `812.00us`, `12.34ms` or `1.02s`, in seconds.
    static func seconds(_ text: String) -> Double? {
        for (suffix, scale) in [("us", 1e-6), ("ms", 1e-3), ("m", 60.0), ("s", 1.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }
}
