import Foundation
import RetractCore

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(Logging)
    import Logging
#endif

/// `retract-bench`: Retract's speed and memory figures, measured in one run against raw
/// libsodium measured in the same run (see `BenchOptions.usage` and docs/performance.md).
///
/// Progress goes to standard error; the table and then the Markdown block go to standard
/// output. Exits 0 when it measured everything, whether or not the goals were met (the
/// verdicts are in the output), and 1 with a `retract-bench: error:` line when a step could
/// not run. Every file it makes lives in one temporary folder, removed at the end.
@main
struct RetractBench {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == MeasuredLaunch.flag {
            exit(MeasuredLaunch.main(Array(arguments.dropFirst())))
        }
        #if canImport(Logging)
            // The service logs "message sealed" at info; keep standard output for the table.
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .warning
                return handler
            }
        #endif
        do {
            let options = try BenchOptions(parsing: arguments)
            try await run(options)
        } catch {
            FileHandle.standardError.write(Data("retract-bench: error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: BenchOptions) async throws {
        let retract =
            try options.skipMemory && options.skipHTTP && options.skipGateway ? "" : retractExecutable(options)
        if !options.skipHTTP { _ = try HTTPBench.tools() }
        let launcher = ownExecutable()
        let scratch = try makeScratchDirectory(in: options.workDirectory)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let clock = ContinuousClock()
        let start = clock.now

        progress("collecting machine facts")
        let machine = MachineInfo.collect(scratch: scratch)
        // Found before anything is measured, so a missing script fails fast.
        let smtpScripts =
            options.skipSMTP
            ? nil
            : (
                sink: try SMTPBench.locate("Tests/Support/smtp_sink.py"),
                baseline: try SMTPBench.locate("scripts/bench_smtplib.py")
            )
        let gatewaySink = options.skipGateway ? nil : try SMTPBench.locate("scripts/bench_count_sink.py")
        if !options.skipGateway, let missing = GatewayBench.missingTools() {
            throw BenchError("the gateway figures need \(missing); install them or use --skip-gateway")
        }
        let pattern = PatternFile()
        let size = Int64(options.sizeMiB) << 20
        let attachment = scratch.appendingPathComponent("attachment-\(options.sizeMiB)MiB.bin")
        if !options.skipThroughput { try pattern.write(to: attachment.path, size: size) }

        var seconds: [String: [Double]] = [:]
        var footprint = ServicePathBench.Footprint(databaseBytes: 0, walBytes: 0)
        if !options.skipThroughput {
            progress("preparing: \(options.sizeMiB) MiB in memory, sealed once to a file")
            let raw = try RawSecretStreamBench(size: Int(size), pattern: pattern)
            let sealedFile = scratch.appendingPathComponent("sealed.bin")
            let crypto = try PartStreamBench(file: attachment.path, sealedFile: sealedFile.path)
            let service = ServicePathBench(file: attachment, pattern: pattern, workDirectory: scratch)
            let disk = DiskWriteBench(
                path: scratch.appendingPathComponent("disk.bin").path, size: size, pattern: pattern)
            let vault = VaultBench(size: size, workDirectory: scratch)
            // Every stage runs once per round, so load from elsewhere on a shared machine falls
            // on all of them alike instead of on whichever stage happened to run at the time.
            for round in 0..<options.runs {
                progress("round \(round + 1) of \(options.runs): raw, crypto path, full path, disk, vault")
                seconds["push", default: []].append(try raw.push())
                seconds["pull", default: []].append(try raw.pull())
                seconds["seal", default: []].append(try crypto.sealOnce())
                seconds["open", default: []].append(try crypto.openOnce())
                let full = try await service.runOnce(index: round)
                seconds["send", default: []].append(full.send)
                seconds["download", default: []].append(full.open)
                if round == 0 { footprint = full.footprint }
                seconds["disk", default: []].append(try disk.runOnce())
                let store = try await vault.runOnce(index: round)
                seconds["vaultWrite", default: []].append(store.write)
                seconds["vaultRead", default: []].append(store.read)
            }
            try raw.verify()
            try? FileManager.default.removeItem(at: sealedFile)
            try? FileManager.default.removeItem(at: attachment)
        }
        func figure(_ name: String) -> Throughput { Throughput(bytes: size, runs: seconds[name] ?? []) }

        var memory: [MemoryBench.Result] = []
        if !options.skipMemory {
            for sizeMiB in options.memorySizesMiB {
                progress("memory: retract send + retract serve download, \(sizeMiB) MiB")
                let directory = scratch.appendingPathComponent("memory-\(sizeMiB)MiB")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let file = directory.appendingPathComponent("attachment.bin").path
                try pattern.write(to: file, size: Int64(sizeMiB) << 20)
                memory.append(
                    try MemoryBench(
                        retract: retract, launcher: launcher, file: file, pattern: pattern, directory: directory
                    ).run())
            }
        }

        var revoke: RevokeBench.Result?
        if !options.skipRevoke {
            revoke = try await RevokeBench(recipients: options.revokeRecipients, workDirectory: scratch)
                .run(runs: options.revokeRuns)
        }
        var smtp: SMTPBench.Result?
        if let smtpScripts {
            smtp = try await SMTPBench(
                mails: options.smtpMails, rounds: options.smtpRounds, breakdown: !options.skipSMTPBreakdown,
                workDirectory: scratch, sinkScript: smtpScripts.sink, baselineScript: smtpScripts.baseline
            ).run()
        }

        var http: HTTPBench.Result?
        if !options.skipHTTP {
            let directory = scratch.appendingPathComponent("http")
            defer { try? FileManager.default.removeItem(at: directory) }
            http = try HTTPBench(
                retract: retract, directory: directory, duration: options.httpSeconds, rounds: options.httpRounds,
                connections: options.httpConnections, threads: options.httpThreads
            ).run()
        }

        var gateway: GatewayBench.Result?
        if let gatewaySink {
            gateway = try GatewayBench(
                retract: retract, mails: options.gatewayMails, rounds: options.gatewayRounds,
                largeMiB: options.gatewayLargeMiB, workDirectory: scratch, sinkScript: gatewaySink
            ).run()
        }

        var report = BenchReport(
            options: options, machine: machine, rawPush: figure("push"), rawPull: figure("pull"),
            cryptoSeal: figure("seal"), cryptoOpen: figure("open"), serviceSeal: figure("send"),
            serviceOpen: figure("download"), footprint: footprint, diskWrite: figure("disk"),
            vaultWrite: figure("vaultWrite"), vaultRead: figure("vaultRead"), memory: memory, revoke: revoke,
            smtp: smtp, http: http, gateway: gateway)
        report.totalSeconds = Stopwatch.seconds(clock.now - start)
        print(report.text)
        print("")
        print("---- Markdown for docs/performance.md ----")
        print(report.markdown)
        if let path = options.markdownFile {
            do {
                try (report.markdown + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw BenchError("cannot write \(path): \(error.localizedDescription)")
            }
        }
    }

    /// The `retract` executable to measure: `--retract`, else the one built next to this one.
    static func retractExecutable(_ options: BenchOptions) throws(BenchError) -> String {
        let path: String
        if let given = options.retract {
            path = given
        } else {
            path =
                URL(fileURLWithPath: ownExecutable()).deletingLastPathComponent().appendingPathComponent("retract").path
        }
        guard access(path, X_OK) == 0 else {
            throw BenchError(
                "no retract executable at \(path); build it (swift build -c release --product retract), "
                    + "pass --retract PATH, or use --skip-memory")
        }
        return path
    }

    /// The absolute path of this executable.
    static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// A new private folder `retract-bench.XXXXXX` under `parent`.
    static func makeScratchDirectory(in parent: String) throws(BenchError) -> URL {
        var template = Array("\(parent)/retract-bench.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { throw BenchError("cannot create a temporary folder in \(parent): \(POSIX.lastError)") }
        return URL(fileURLWithPath: made, isDirectory: true)
    }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("retract-bench: \(message)\n".utf8))
    }
}
