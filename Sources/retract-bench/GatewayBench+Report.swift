import Foundation

extension GatewayBench.Result {
    /// The rows of the gateway figures: label, value, verdict.
    private var rows: [(label: String, value: String, verdict: String)] {
        func rate(_ seconds: [Double]) -> String { String(format: "%.1f msg/s", self.rate(seconds)) }
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
        func all(_ seconds: [Double]) -> String { seconds.map { String(format: "%.2f", $0) }.joined(separator: ", ") + " s" }
        let verdict = BenchReport.verdict
        return [
            ("Postfix → sink alone (2 recipients per message)", rate(postfixSeconds) + " (" + all(postfixSeconds) + ")", "baseline"),
            (
                "Postfix → Retract → Postfix → sink (notification, pass-through copy, receipt)",
                rate(throughRetractSeconds) + " (" + all(throughRetractSeconds) + ")",
                String(format: "%.1f%% of Postfix alone: ", throughRatio * 100)
                    + "**\(verdict(throughPasses))** (goal >= 50%)"
            ),
            ("aiosmtpd sink fed directly, 4 connections (keeps nothing)", rate(sinkSeconds) + " (" + all(sinkSeconds) + ")", "baseline"),
            (
                "Retract's SMTP server fed directly, 4 connections (sealed and committed before each 250)",
                rate(directSeconds) + " (" + all(directSeconds) + ")",
                String(format: "%.2fx the sink: ", directRatio) + "**\(verdict(directPasses))** (goal >= 1.0x)"
            ),
            (
                "  final dot → 250 at Retract, p50 / p99 / max",
                "\(ms(directP50)) / \(ms(directP99)) / \(ms(directMax))",
                "p99 **\(verdict(latencyPasses))** (goal < 50 ms)"
            ),
            ("  final dot → 250 at the sink, p99", ms(sinkP99), ""),
            ("  outbox after the last 250, until the sink had every mail", String(format: "%.2f s", directDrainSeconds), ""),
            (
                "\(BenchReport.mebibytes(largeBytes)) message to Retract's SMTP server: peak RSS of `retract serve` (VmHWM)",
                BenchReport.kibibytes(largePeakKiB), "**\(verdict(memoryPasses))** (goal < 64 MiB)"
            ),
            ("  `retract serve` idle after start-up (RSS / anonymous)", "\(BenchReport.kibibytes(largeIdleKiB)) / \(BenchReport.kibibytes(largeIdleAnonKiB))", ""),
            ("  anonymous (heap) part during the message, sampled", BenchReport.kibibytes(largeAnonKiB), ""),
            (
                "  final dot → 250 / until the sink had all three mails",
                String(format: "%.2f s / %.2f s", largeAcceptSeconds, largeDeliveredSeconds), ""
            ),
        ]
    }

    /// Lines for the terminal table.
    var text: [String] {
        ["", "SMTP gateway (issue 12), \(mails) messages of 2 KiB per run, best of the rounds"]
            + rows.map { "  " + $0.label.replacingOccurrences(of: "`", with: "") + ": " + $0.value + "  " + $0.verdict.replacingOccurrences(of: "**", with: "") }
    }

    /// Lines for docs/performance.md.
    var markdown: [String] {
        ["", "| SMTP gateway (issue 12), \(mails) messages of 2 KiB per run | figure | verdict |", "| --- | ---: | --- |"]
            + rows.map { "| \($0.label) | \($0.value) | \($0.verdict) |" }
    }
}
