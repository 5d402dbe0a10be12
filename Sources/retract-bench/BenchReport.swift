import Foundation

/// Everything one run measured, rendered as a terminal table and as the Markdown block of
/// docs/performance.md.
///
/// The throughput goal (seal and open at >= 85% of raw secretstream) is judged on the full
/// path, `RetractService.send` and `downloadAttachment`, because that is what a sender and
/// a reader wait for; the crypto-path rows show how much of any gap is the vault's.
struct BenchReport {
    /// The share of the raw figure seal and open must reach.
    static let throughputGoal = 0.85
    /// The peak RSS every process must stay under, KiB.
    static let memoryGoalKiB = 64 * 1024

    var options: BenchOptions
    var machine: MachineInfo
    var rawPush: Throughput
    var rawPull: Throughput
    var cryptoSeal: Throughput
    var cryptoOpen: Throughput
    var serviceSeal: Throughput
    var serviceOpen: Throughput
    var footprint: ServicePathBench.Footprint
    var diskWrite: Throughput
    var vaultWrite: Throughput
    var vaultRead: Throughput
    var memory: [MemoryBench.Result]
    /// Issue 3: revoking a message with many recipients; nil with --skip-revoke.
    var revoke: RevokeBench.Result?
    /// Issue 4: SMTP delivery against smtplib; nil with --skip-smtp.
    var smtp: SMTPBench.Result?
    /// Issue 5: wrk against `retract serve` and nginx; nil with --skip-http.
    var http: HTTPBench.Result?
    /// Issue 12: the SMTP gateway; nil with --skip-gateway.
    var gateway: GatewayBench.Result? = nil
    var totalSeconds: Double = 0

    /// Revocation must commit, checkpoint and queue its notices within this many seconds.
    static let revokeGoalSeconds = 1.0
    /// Retract's SMTP delivery rate must reach this share of smtplib's.
    static let smtpGoal = 1.0

    /// The revocation-time goal (transaction + checkpoint + notices queued).
    var revokePasses: Bool? { revoke.map { $0.commitSeconds < Self.revokeGoalSeconds } }
    /// The refused-at-once goal: no open started after revoke returned succeeded, and the
    /// first such open was refused.
    var refusalPasses: Bool? {
        revoke.map { $0.concurrent.openedAfterReturn == 0 && $0.concurrent.firstAfterReturnRefused }
    }
    /// The SMTP goal.
    var smtpPasses: Bool? { smtp.map { $0.ratio >= Self.smtpGoal } }

    /// One throughput row.
    private struct Row {
        var label: String
        var figure: Throughput
        var baseline: Throughput?
        var judged: Bool
    }

    private var rows: [Row] {
        [
            Row(label: "raw secretstream push (Sodium, in memory)", figure: rawPush, baseline: nil, judged: false),
            Row(label: "raw secretstream pull (Sodium, in memory)", figure: rawPull, baseline: nil, judged: false),
            Row(label: "seal, full path: RetractService.send", figure: serviceSeal, baseline: rawPush, judged: true),
            Row(
                label: "open, full path: downloadAttachment + nextChunk", figure: serviceOpen, baseline: rawPull,
                judged: true),
            Row(
                label: "seal, crypto path: PartSealer from a file", figure: cryptoSeal, baseline: rawPush, judged: false
            ),
            Row(
                label: "open, crypto path: PartOpener from a file", figure: cryptoOpen, baseline: rawPull, judged: false
            ),
        ]
    }

    /// One line of the time split: a label, a rate (or blank) and best seconds per run.
    private struct Split {
        var label: String
        var rate: String
        var seconds: String
    }

    /// The full path next to its parts: cipher alone, vault alone, and their sum as a
    /// sequential model (the path seals, then stores, chunk after chunk, on one thread).
    private var breakdown: [Split] {
        func split(_ label: String, _ figure: Throughput) -> Split {
            Split(label: label, rate: Self.number(figure.mebibytesPerSecond), seconds: Self.seconds(figure.bestSeconds))
        }
        return [
            split("disk only: write(2) + fdatasync (durable-write ceiling)", diskWrite),
            split("seal: PartSealer from a file (cipher)", cryptoSeal),
            split("seal: vault write alone (storeSealedMessage, no crypto)", vaultWrite),
            Split(
                label: "seal: cipher + vault write, sequential model", rate: "",
                seconds: Self.seconds(cryptoSeal.bestSeconds + vaultWrite.bestSeconds)),
            split("seal: measured RetractService.send", serviceSeal),
            split("open: PartOpener from a file (cipher)", cryptoOpen),
            split("open: vault read alone (sealedChunk loop, no crypto)", vaultRead),
            Split(
                label: "open: cipher + vault read, sequential model", rate: "",
                seconds: Self.seconds(cryptoOpen.bestSeconds + vaultRead.bestSeconds)),
            split("open: measured downloadAttachment + nextChunk", serviceOpen),
        ]
    }

    /// Whether every judged figure meets its goal.
    var passes: Bool {
        rows.allSatisfy { row in
            guard !options.skipThroughput, row.judged, let baseline = row.baseline else { return true }
            return row.figure.ratio(to: baseline) >= Self.throughputGoal
        } && memory.allSatisfy { $0.sendPeakKiB < Self.memoryGoalKiB && $0.servePeakKiB < Self.memoryGoalKiB }
            && revokePasses != false && refusalPasses != false && smtpPasses != false && http?.passes != false
            && gateway?.passes != false
    }

    // MARK: - Terminal

    /// The table for standard output.
    var text: String {
        var lines: [String] = []
        if !options.skipThroughput {
            lines.append(
                "Throughput: \(Self.sizeLabel(Int64(options.sizeMiB) << 20)) per run, 64 KiB chunks, best of \(options.runs)"
                    .padded(58) + "MiB/s".leftPadded(9) + "vs raw".leftPadded(9) + "  goal >= 85%")
            for row in rows {
                var line = "  " + row.label.padded(56) + Self.number(row.figure.mebibytesPerSecond).leftPadded(9)
                if let baseline = row.baseline {
                    let ratio = row.figure.ratio(to: baseline)
                    line += Self.percent(ratio).leftPadded(9) + "  " + Self.verdict(ratio >= Self.throughputGoal)
                    line += row.judged ? " (judged)" : " (crypto only)"
                } else {
                    line += "100.0%".leftPadded(9) + "  baseline"
                }
                lines.append(line)
            }
            lines.append(
                "  vault after one send: vault.sqlite \(Self.mebibytes(footprint.databaseBytes)), "
                    + "WAL \(Self.mebibytes(footprint.walBytes))")
            lines.append("")
            lines.append("Where the full path's time goes".padded(58) + "MiB/s".leftPadded(9) + "seconds".leftPadded(9))
            for row in breakdown {
                lines.append("  " + row.label.padded(56) + row.rate.leftPadded(9) + row.seconds.leftPadded(9))
            }
        }
        if !memory.isEmpty {
            lines.append("")
            var header = "Peak resident memory (RSS)".padded(46)
            for result in memory { header += Self.sizeLabel(result.size).leftPadded(12) }
            lines.append(header + "  goal < 64 MiB")
            lines.append(memoryLine("  retract send --attach", \.sendPeakKiB, judged: true))
            lines.append(memoryLine("  retract serve, one HTTP download", \.servePeakKiB, judged: true))
            lines.append(memoryLine("    retract serve idle after start-up", \.serveIdleKiB, judged: false))
            lines.append(memoryLine("    measuring launcher of send (floor)", \.launcherPeakKiB, judged: false))
            lines.append(memoryLine("  anonymous (heap) part, sampled: send", \.sendAnonKiB, judged: false))
            lines.append(memoryLine("  anonymous (heap) part, sampled: serve", \.serveAnonKiB, judged: false))
            lines.append(memoryLine("    serve idle", \.serveIdleAnonKiB, judged: false))
            var send = "  retract send wall time".padded(46)
            var download = "  HTTP download throughput (MiB/s)".padded(46)
            for result in memory {
                send += (String(format: "%.1f", result.sendSeconds) + " s").leftPadded(12)
                download += Self.number(Double(result.size) / 1_048_576 / result.downloadSeconds).leftPadded(12)
            }
            lines.append(send)
            lines.append(download)
            if let note = floorNote { lines.append("  " + note) }
        }
        lines += revokeText + smtpText + (http?.text ?? []) + (gateway?.text ?? [])
        lines.append("")
        lines.append("Overall: \(passes ? "PASS" : "FAIL") (total \(String(format: "%.0f", totalSeconds)) s)")
        return lines.joined(separator: "\n")
    }

    private func memoryLine(_ label: String, _ field: KeyPath<MemoryBench.Result, Int>, judged: Bool) -> String {
        var line = label.padded(46)
        for result in memory { line += Self.kibibytes(result[keyPath: field]).leftPadded(12) }
        if judged {
            line += "  " + Self.verdict(memory.allSatisfy { $0[keyPath: field] < Self.memoryGoalKiB })
        }
        return line
    }

    /// Set when a send peak is not above the measuring launcher's own peak, which makes it
    /// an upper bound rather than the sender's exact figure.
    private var floorNote: String? {
        memory.contains { $0.sendPeakKiB <= $0.launcherPeakKiB }
            ? "Note: a send peak at or below the launcher's floor is an upper bound, not exact." : nil
    }

    // MARK: - Markdown

    /// The block pasted into docs/performance.md.
    var markdown: String {
        var lines: [String] = []
        let skipped =
            options.skipThroughput || options.skipMemory || options.skipRevoke || options.skipSMTP || options.skipHTTP
            || options.skipGateway
        lines.append(
            "Measured \(machine.date) at commit \(machine.commit) with \(skipped ? "a partial run" : "`make bench`")")
        lines.append(
            "(`retract-bench \(invocation)`).")
        lines.append("")
        lines.append(
            "- Machine: \(machine.processors) cores (`nproc`), \(machine.cpuModel), "
                + "\(String(format: "%.1f", Double(machine.memoryBytes) / 1_073_741_824)) GiB RAM")
        lines.append("- System: \(machine.system); \(machine.swiftVersion)")
        lines.append("- libsodium \(machine.libsodiumVersion), SQLite \(machine.sqliteVersion)")
        if !options.skipThroughput {
            lines.append("")
            lines.append(
                "| \(Self.sizeLabel(Int64(options.sizeMiB) << 20)), 64 KiB chunks, best of \(options.runs) | MiB/s | vs raw | goal >= 85% |"
            )
            lines.append("| --- | ---: | ---: | --- |")
            for row in rows {
                var cells = ["\(row.label)", Self.number(row.figure.mebibytesPerSecond)]
                if let baseline = row.baseline {
                    let ratio = row.figure.ratio(to: baseline)
                    cells.append(Self.percent(ratio))
                    cells.append(
                        (row.judged
                            ? "**\(Self.verdict(ratio >= Self.throughputGoal))** (judged)"
                            : "\(Self.verdict(ratio >= Self.throughputGoal)) (crypto only)"))
                } else {
                    cells += ["100.0%", "baseline"]
                }
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
            lines.append("")
            lines.append(
                "After one send the vault holds `vault.sqlite` \(Self.mebibytes(footprint.databaseBytes)) "
                    + "and `vault.sqlite-wal` \(Self.mebibytes(footprint.walBytes)).")
            lines.append("")
            lines.append("| Where the full path's time goes | MiB/s | seconds |")
            lines.append("| --- | ---: | ---: |")
            for row in breakdown {
                lines.append("| \(row.label) | \(row.rate) | \(row.seconds) |")
            }
        }
        if !memory.isEmpty {
            lines.append("")
            let sizes = memory.map { Self.sizeLabel($0.size) }
            lines.append("| Peak RSS | " + sizes.joined(separator: " | ") + " | goal < 64 MiB |")
            lines.append("| --- |" + String(repeating: " ---: |", count: memory.count) + " --- |")
            func row(_ label: String, _ field: KeyPath<MemoryBench.Result, Int>, judged: Bool) -> String {
                let cells = memory.map { Self.kibibytes($0[keyPath: field]) }
                let verdict =
                    judged ? "**\(Self.verdict(memory.allSatisfy { $0[keyPath: field] < Self.memoryGoalKiB }))**" : ""
                return "| \(label) | " + cells.joined(separator: " | ") + " | \(verdict) |"
            }
            lines.append(row("`retract send --attach`", \.sendPeakKiB, judged: true))
            lines.append(row("`retract serve`, one HTTP download", \.servePeakKiB, judged: true))
            lines.append(row("`retract serve` idle after start-up", \.serveIdleKiB, judged: false))
            lines.append(row("measuring launcher of `send` (floor)", \.launcherPeakKiB, judged: false))
            lines.append(row("anonymous (heap) part of `send`, sampled", \.sendAnonKiB, judged: false))
            lines.append(
                row("anonymous (heap) part of `serve` during the download, sampled", \.serveAnonKiB, judged: false))
            lines.append(row("anonymous (heap) part of `serve` idle", \.serveIdleAnonKiB, judged: false))
            lines.append(
                "| `retract send` wall time | "
                    + memory.map { String(format: "%.1f s", $0.sendSeconds) }.joined(separator: " | ") + " | |")
            lines.append(
                "| HTTP download, MiB/s | "
                    + memory.map { Self.number(Double($0.size) / 1_048_576 / $0.downloadSeconds) }
                    .joined(separator: " | ") + " | |")
        }
        if let note = floorNote {
            lines.append("")
            lines.append(note)
        }
        lines += revokeMarkdown + smtpMarkdown + (http?.markdown ?? []) + (gateway?.markdown ?? [])
        lines.append("")
        lines.append(
            "Overall: **\(passes ? "PASS" : "FAIL")**; the benchmark took \(String(format: "%.0f", totalSeconds)) s.")
        return lines.joined(separator: "\n")
    }

    // MARK: - Formatting

    static func verdict(_ pass: Bool) -> String { pass ? "PASS" : "FAIL" }
    static func number(_ value: Double) -> String { String(format: "%.1f", value) }
    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
    static func percent(_ ratio: Double) -> String { String(format: "%.1f%%", ratio * 100) }
    static func mebibytes(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
    /// An attachment size: whole GiB or whole MiB when exact.
    static func sizeLabel(_ bytes: Int64) -> String {
        if bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        return mebibytes(bytes)
    }
    static func kibibytes(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }
}

extension BenchReport {
    /// The options of this run, as a command line (for the Markdown block).
    var invocation: String {
        var parts: [String] = []
        if !options.skipThroughput { parts.append("--size-mib \(options.sizeMiB) --runs \(options.runs)") }
        if !options.skipMemory {
            parts.append("--memory-sizes-mib \(options.memorySizesMiB.map(String.init).joined(separator: ","))")
        }
        if !options.skipRevoke {
            parts.append("--revoke-recipients \(options.revokeRecipients) --revoke-runs \(options.revokeRuns)")
        }
        if !options.skipSMTP { parts.append("--smtp-mails \(options.smtpMails) --smtp-rounds \(options.smtpRounds)") }
        if options.skipThroughput { parts.append("--skip-throughput") }
        if options.skipMemory { parts.append("--skip-memory") }
        if options.skipRevoke { parts.append("--skip-revoke") }
        if !options.skipHTTP {
            parts.append(
                "--http-seconds \(options.httpSeconds) --http-rounds \(options.httpRounds) "
                    + "--http-connections \(options.httpConnections) --http-threads \(options.httpThreads)")
        }
        if options.skipSMTP { parts.append("--skip-smtp") }
        if options.skipHTTP { parts.append("--skip-http") }
        if options.skipGateway {
            parts.append("--skip-gateway")
        } else {
            parts.append(
                "--gateway-mails \(options.gatewayMails) --gateway-rounds \(options.gatewayRounds) "
                    + "--gateway-large-mib \(options.gatewayLargeMiB)")
        }
        return parts.joined(separator: " ")
    }

    // MARK: - Issue 3: revocation

    private var revokeRows: [(label: String, value: String, verdict: String)] {
        guard let r = revoke else { return [] }
        let c = r.concurrent
        func s(_ seconds: Double) -> String { String(format: "%.3f s", seconds) }
        return [
            (
                "revoke: checks + transaction + TRUNCATE checkpoint, \(r.recipients) notices queued",
                s(r.commitSeconds), "**\(Self.verdict(revokePasses ?? false))** (judged, goal < 1 s)"
            ),
            (
                "revoke returned: the above + delivery pass writing \(r.filesWritten) .eml files (fsync each)",
                s(r.totalSeconds), "not judged"
            ),
            ("setup: send to \(r.recipients) Bcc recipients (no-op transport)", s(r.sendSeconds), ""),
            (
                "with an open loop on another task: transaction + checkpoint / revoke returned",
                "\(s(c.commitSeconds)) / \(s(c.totalSeconds))", ""
            ),
            ("opens started before the commit that succeeded", "\(c.openedBeforeCommit)", ""),
            ("opens started after the commit that succeeded", "\(c.openedAfterCommit)", ""),
            (
                "opens started after revoke returned: succeeded / refused",
                "\(c.openedAfterReturn) / \(c.refusedAfterReturn)",
                "**\(Self.verdict(refusalPasses ?? false))** (judged, goal 0 succeeded, the first refused)"
            ),
            (
                "first open started after revoke returned: refused after",
                c.refusalLatencySeconds.map { String(format: "%.1f ms", $0 * 1000) } ?? "n/a",
                c.firstAfterReturnRefused ? "refused: \(c.refusal)" : "NOT refused"
            ),
        ]
    }

    var revokeText: [String] {
        guard let r = revoke else { return [] }
        var lines = ["", "Revocation (issue 3), \(r.recipients) recipients, best of \(options.revokeRuns)"]
        for row in revokeRows {
            lines.append(
                "  " + row.label.padded(86) + row.value.leftPadded(16) + "  "
                    + row.verdict.replacingOccurrences(of: "**", with: ""))
        }
        return lines
    }

    var revokeMarkdown: [String] {
        guard let r = revoke else { return [] }
        var lines = [
            "", "| Revocation, \(r.recipients) recipients, best of \(options.revokeRuns) | time / count | goal |",
            "| --- | ---: | --- |",
        ]
        for row in revokeRows { lines.append("| \(row.label) | \(row.value) | \(row.verdict) |") }
        return lines
    }

    // MARK: - Issue 4: SMTP delivery

    private var smtpRows: [(label: String, rate: String, seconds: String, verdict: String)] {
        guard let r = smtp else { return [] }
        func all(_ runs: [Double]) -> String { runs.map { String(format: "%.2f", $0) }.joined(separator: ", ") }
        let rows: [(label: String, rate: String, seconds: String, verdict: String)] = [
            (
                "baseline: Python smtplib, one connection, pre-built messages", Self.number(r.baselineRate),
                Self.seconds(r.baselineBest), "runs: \(all(r.baselineSeconds)) s"
            ),
            (
                "Retract: deliverDueMail, default transport (4 SMTP connections)", Self.number(r.retractRate), Self.seconds(r.retractBest),
                "runs: \(all(r.retractSeconds)) s"
            ),
            (
                "Retract / baseline", String(format: "%.2fx", r.ratio), "",
                "**\(Self.verdict(smtpPasses ?? false))** (judged, goal >= 1.0x)"
            ),
            (
                "  where it goes: SMTPTransport.deliver loop alone (one connection, no vault)",
                Self.number(Double(r.mails) / (r.transportSeconds.min() ?? .infinity)),
                Self.seconds(r.transportSeconds.min() ?? .infinity), "runs: \(all(r.transportSeconds)) s"
            ),
            (
                "  deliverDueMail, sink not advertising PIPELINING",
                Self.number(Double(r.mails) / (r.withoutPipeliningSeconds.min() ?? .infinity)),
                Self.seconds(r.withoutPipeliningSeconds.min() ?? .infinity), "runs: \(all(r.withoutPipeliningSeconds)) s"
            ),
            (
                "  deliverDueMail with a no-op transport (claims, checks, decrypt, markDelivered)",
                Self.number(Double(r.mails) / (r.workerSeconds.min() ?? .infinity)),
                Self.seconds(r.workerSeconds.min() ?? .infinity), "runs: \(all(r.workerSeconds)) s"
            ),
            ("setup: send queuing \(r.mails) notifications (delay)", "", Self.seconds(r.queueSeconds), ""),
        ]
        // Without the breakdown (`--skip-smtp-breakdown`) its rows have no runs.
        return rows.filter { !$0.label.hasPrefix("  ") || !r.transportSeconds.isEmpty }
    }

    var smtpText: [String] {
        guard let r = smtp else { return [] }
        var lines = [
            "",
            "SMTP delivery (issue 4), \(r.mails) mails of ~\(r.averageBytes) B to aiosmtpd, best of \(options.smtpRounds)"
                .padded(72) + "msg/s".leftPadded(9) + "seconds".leftPadded(9),
        ]
        for row in smtpRows {
            lines.append(
                "  " + row.label.padded(70) + row.rate.leftPadded(9) + row.seconds.leftPadded(9) + "  "
                    + row.verdict.replacingOccurrences(of: "**", with: ""))
        }
        return lines
    }

    var smtpMarkdown: [String] {
        guard let r = smtp else { return [] }
        var lines = [
            "",
            "| SMTP delivery, \(r.mails) mails of ~\(r.averageBytes) B to aiosmtpd, best of \(options.smtpRounds) | msg/s | seconds | |",
            "| --- | ---: | ---: | --- |",
        ]
        for row in smtpRows { lines.append("| \(row.label) | \(row.rate) | \(row.seconds) | \(row.verdict) |") }
        return lines
    }
}

extension String {
    /// Left-aligned in `width` columns.
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    /// Right-aligned in `width` columns.
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
