import Foundation

extension HTTPBench.Result {
    /// Opens must reach this share of nginx's static rate.
    static let rateGoal = 0.5
    /// And answer within this p99 latency, seconds.
    static let p99Goal = 0.020

    /// The rate goal, best open run against best nginx run.
    var ratePasses: Bool { bestRatio >= Self.rateGoal }
    /// The latency goal, on the median p99 of the open runs.
    var latencyPasses: Bool { medianP99(.open) < Self.p99Goal }
    var passes: Bool { ratePasses && latencyPasses }

    private struct Row {
        var label: String
        var best: String
        var median: String
        var p99: String
        var runs: String
    }

    private var rows: [Row] {
        HTTPBench.Target.allCases.map { target in
            let runs = self.runs[target] ?? []
            return Row(
                label: target.rawValue, best: Self.rate(best(target)), median: Self.rate(median(target)),
                p99: Self.milliseconds(bestP99(target)) + " / " + Self.milliseconds(medianP99(target)),
                runs: runs.map { "\(Self.rate($0.requestsPerSecond)) (\(Self.milliseconds($0.p99)))" }
                    .joined(separator: ", "))
        }
    }

    private var heading: String {
        "HTTP (issue 5): wrk -t\(threads) -c\(connections) -d\(duration)s --latency, \(runs[.open]?.count ?? 0) interleaved rounds, 2 KiB payload"
    }

    private var verdicts: [String] {
        [
            "open / nginx: best \(Self.percent(bestRatio)), median \(Self.percent(medianRatio)) -> "
                + "\(BenchReport.verdict(ratePasses)) (judged on best, goal >= 50%)",
            "open p99: median \(Self.milliseconds(medianP99(.open))) -> \(BenchReport.verdict(latencyPasses)) "
                + "(judged on the median run, goal < 20 ms)",
            "not judged: /healthz / nginx \(Self.percent(best(.health) / max(best(.nginx), 1))) (best), the share "
                + "of nginx's rate Hummingbird reaches with no Retract work at all",
            "views counted by the vault: \(viewsCounted), opens completed by wrk: \(opensCompleted) "
                + "(warm-up included; the difference is opens in flight when wrk stopped)",
        ]
    }

    /// Lines for the terminal table.
    var text: [String] {
        var lines = ["", heading]
        lines.append(
            "  " + "target".padding(toLength: 34, withPad: " ", startingAt: 0) + "best req/s".rightAligned(12)
                + "median".rightAligned(10) + "p99 best / median".rightAligned(22) + "  runs (p99)")
        for row in rows {
            lines.append(
                "  " + row.label.padding(toLength: 34, withPad: " ", startingAt: 0) + row.best.rightAligned(12)
                    + row.median.rightAligned(10) + row.p99.rightAligned(22) + "  " + row.runs)
        }
        lines += verdicts.map { "  " + $0 }
        return lines
    }

    /// Lines for the Markdown block.
    var markdown: [String] {
        var lines = [
            "", "| \(heading) | best req/s | median req/s | p99 best / median | runs: req/s (p99) |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for row in rows { lines.append("| \(row.label) | \(row.best) | \(row.median) | \(row.p99) | \(row.runs) |") }
        lines.append("")
        lines += verdicts.map { "- " + $0.replacingOccurrences(of: "PASS", with: "**PASS**")
            .replacingOccurrences(of: "FAIL", with: "**FAIL**") }
        return lines
    }

    static func rate(_ value: Double) -> String { String(format: "%.0f", value) }
    static func milliseconds(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }
    static func percent(_ ratio: Double) -> String { String(format: "%.1f%%", ratio * 100) }
}

extension String {
    /// Right-aligned in `width` columns.
    fileprivate func rightAligned(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
