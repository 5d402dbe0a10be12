import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12's speed and memory figures for the SMTP gateway, in one run:
///
/// 1. **Through Postfix.** `mails` 2 KiB messages, each To one external (bob@partner.test)
///    and Cc one internal recipient (carol@corp.test), submitted by `SMTPLoadClient` (four
///    connections) to a private Postfix (`BenchPostfix`) that relays everything to a counting
///    aiosmtpd sink (`scripts/bench_count_sink.py`): Postfix → sink alone, the machine's
///    limit; then Postfix → Retract (`retract serve --smtp-listen`, FILTER_README's
///    after-queue content filter) → Postfix's return smtpd → sink. Timed from the first
///    connection to the sink's last expected delivery: Postfix alone delivers two
///    recipients per message; Retract's path three (the outsider's notification, the
///    colleague's pass-through copy, and the sender's receipt, on by default). Goal: Retract's
///    path at ≥ 50% of Postfix alone in messages per second.
/// 2. **Retract's SMTP server fed directly**: the same client and messages straight to
///    `retract serve`'s SMTP port (each sealed and committed before its 250; the outbox
///    worker delivering to the sink meanwhile, as in production), against the same client
///    feeding the aiosmtpd sink, which keeps nothing. Goal: ≥ 1.0× the sink's rate, and p99
///    from the final dot to the 250 under 50 ms.
/// 3. **One large message** (`largeMiB`, a MIME message with a base64 attachment) to
///    Retract's SMTP server, sealed, passed through and streamed out to the sink; goal: peak
///    RSS (`VmHWM`) of `retract serve` under 64 MiB.
///
/// Rounds alternate the compared runs; the best of each is kept. Every Postfix and every
/// `retract serve` is fresh for its run, so no queue or vault carries over.
struct GatewayBench {
    let retract: String
    let mails: Int
    let rounds: Int
    let largeMiB: Int
    let workDirectory: URL
    let sinkScript: String
    static let python = "/usr/bin/python3"
    /// The benchmark's connections, like a busy MTA's to its filter.
    static let connections = 4

    struct Result {
        var mails: Int
        /// Seconds per round: Postfix → sink alone, and Postfix → Retract → Postfix → sink.
        var postfixSeconds: [Double] = []
        var throughRetractSeconds: [Double] = []
        /// Seconds per round of the client feeding Retract's SMTP server, and the sink.
        var directSeconds: [Double] = []
        var sinkSeconds: [Double] = []
        /// Final dot → 250 of the best direct round (and of the sink's), seconds.
        var directP50 = Double.nan
        var directP99 = Double.nan
        var directMax = Double.nan
        var sinkP99 = Double.nan
        /// Seconds Retract's outbox took, after the last 250, until the sink had every mail
        /// of the best direct round.
        var directDrainSeconds = Double.nan
        /// The large message: bytes, its dot → 250, the time until the sink had everything.
        var largeBytes: Int64 = 0
        var largeAcceptSeconds = Double.nan
        var largeDeliveredSeconds = Double.nan
        var largeIdleKiB = 0
        var largePeakKiB = 0
        var largeIdleAnonKiB = 0
        var largeAnonKiB = 0

        static let throughGoal = 0.5
        static let directGoal = 1.0
        static let latencyGoal = 0.050
        static let memoryGoalKiB = 64 * 1024

        func rate(_ seconds: [Double]) -> Double { Double(mails) / (seconds.min() ?? .infinity) }
        var throughRatio: Double { rate(throughRetractSeconds) / rate(postfixSeconds) }
        var directRatio: Double { rate(directSeconds) / rate(sinkSeconds) }
        var throughPasses: Bool { throughRatio >= Self.throughGoal }
        var directPasses: Bool { directRatio >= Self.directGoal }
        var latencyPasses: Bool { directP99 < Self.latencyGoal }
        var memoryPasses: Bool { largePeakKiB > 0 && largePeakKiB < Self.memoryGoalKiB }
        var passes: Bool { throughPasses && directPasses && latencyPasses && memoryPasses }
    }

    /// Whether the figures can be measured here; the reason when not.
    static func missingTools() -> String? {
        if !BenchPostfix.isUsable { return "Debian's postfix (/usr/sbin/postfix), run as root" }
        if access(python, X_OK) != 0 { return "\(python) with python3-aiosmtpd" }
        return nil
    }

    func run() throws -> Result {
        let directory = workDirectory.appendingPathComponent("gateway")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try CountingSink(script: sinkScript, directory: directory)
        defer { sink.stop() }
        RetractBench.progress("gateway: counting sink on 127.0.0.1:\(sink.port)")

        var result = Result(mails: mails)
        for round in 0..<rounds {
            let name = "round \(round + 1) of \(rounds)"
            RetractBench.progress("gateway: \(name): \(mails) messages through Postfix alone")
            result.postfixSeconds.append(try throughPostfix(sink: sink, filter: false, directory: directory))
            RetractBench.progress("gateway: \(name): \(mails) messages through Postfix → Retract → Postfix")
            result.throughRetractSeconds.append(try throughPostfix(sink: sink, filter: true, directory: directory))

            RetractBench.progress("gateway: \(name): \(mails) messages to Retract's SMTP server directly")
            let direct = try directRetract(sink: sink, directory: directory)
            if direct.client.seconds < (result.directSeconds.min() ?? .infinity) {
                result.directP50 = direct.client.latency(0.5)
                result.directP99 = direct.client.latency(0.99)
                result.directMax = direct.client.latency(1.0)
                result.directDrainSeconds = direct.drain
            }
            result.directSeconds.append(direct.client.seconds)
            RetractBench.progress("gateway: \(name): \(mails) messages to the aiosmtpd sink directly")
            let before = sink.count
            let fed = try SMTPLoadClient(port: sink.port, connections: Self.connections).run(messages(round: round))
            try check(fed, expected: mails, what: "the sink")
            _ = try sink.waitFor(recipients: before + 2 * mails, timeout: 60)
            if fed.seconds < (result.sinkSeconds.min() ?? .infinity) { result.sinkP99 = fed.latency(0.99) }
            result.sinkSeconds.append(fed.seconds)
        }

        RetractBench.progress("gateway: one \(largeMiB) MiB message through Retract's SMTP server")
        try large(sink: sink, directory: directory, into: &result)
        return result
    }

    // MARK: - The runs

    /// One run through a fresh Postfix (and, with `filter`, a fresh Retract behind it): the
    /// seconds from the first connection to the sink's last expected delivery.
    private func throughPostfix(sink: CountingSink, filter: Bool, directory: URL) throws -> Double {
        let before = sink.count
        var retract: RetractServe?
        let filterPort = try BenchNetwork.freePort()
        let postfix = try BenchPostfix(
            relayPort: sink.port, contentFilter: filter ? filterPort : nil, in: directory, root: workDirectory)
        defer {
            postfix.stop()
            retract?.stop()
        }
        if filter {
            retract = try RetractServe(
                executable: self.retract, directory: directory, smtpPort: filterPort,
                smtpURL: "smtp://127.0.0.1:\(postfix.returnPort)")
        }
        let client = try SMTPLoadClient(port: postfix.port, connections: Self.connections).run(messages(round: 0))
        try check(client, expected: mails, what: "Postfix")
        let perMessage = filter ? 3 : 2
        let last = try sink.waitFor(recipients: before + perMessage * mails, timeout: 300) {
            "Postfix's log: \(postfix.log.suffix(1200))"
        }
        return last - client.startedAt
    }

    /// The client feeding a fresh `retract serve` directly; its worker delivers to the sink.
    private func directRetract(sink: CountingSink, directory: URL) throws -> (
        client: SMTPLoadClient.Result, drain: Double
    ) {
        let before = sink.count
        let port = try BenchNetwork.freePort()
        let retract = try RetractServe(
            executable: self.retract, directory: directory, smtpPort: port, smtpURL: "smtp://127.0.0.1:\(sink.port)")
        defer { retract.stop() }
        let client = try SMTPLoadClient(port: port, connections: Self.connections).run(messages(round: 1))
        try check(client, expected: mails, what: "Retract's SMTP server")
        let last = try sink.waitFor(recipients: before + 3 * mails, timeout: 300)
        return (client, last - (client.startedAt + client.seconds))
    }

    /// The large message to a fresh `retract serve`, its memory sampled until the sink has
    /// the notification, the pass-through copy and the receipt.
    private func large(sink: CountingSink, directory: URL, into result: inout Result) throws {
        let file = directory.appendingPathComponent("large.eml").path
        result.largeBytes = try Self.writeLargeMessage(to: file, size: Int64(largeMiB) << 20)
        let before = sink.count
        let port = try BenchNetwork.freePort()
        let retract = try RetractServe(
            executable: self.retract, directory: directory, smtpPort: port, smtpURL: "smtp://127.0.0.1:\(sink.port)")
        defer { retract.stop() }
        let pid = retract.child.pid
        result.largeIdleKiB = POSIX.procStatusKiB(pid: pid, field: "VmRSS") ?? 0
        result.largeIdleAnonKiB = POSIX.procStatusKiB(pid: pid, field: "RssAnon") ?? 0
        var anon = result.largeIdleAnonKiB

        let mail = SMTPLoadClient.Mail(
            mailFrom: "alice@corp.test", recipients: ["bob@partner.test", "carol@corp.test"], content: .file(file))
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let start = ContinuousClock.now
        Thread {
            box.set(Swift.Result { try SMTPLoadClient(port: port, connections: 1).run([mail]) })
            done.signal()
        }.start()
        while done.wait(timeout: .now() + .milliseconds(10)) == .timedOut {
            anon = max(anon, POSIX.procStatusKiB(pid: pid, field: "RssAnon") ?? 0)
        }
        let client = try box.take()
        try check(client, expected: 1, what: "Retract's SMTP server (the large message)")
        result.largeAcceptSeconds = client.latency(1.0)
        let deadline = ContinuousClock.now + .seconds(600)
        while sink.count < before + 3 {
            guard ContinuousClock.now < deadline else {
                throw BenchError("the sink did not get the large message's three mails within 600 s")
            }
            anon = max(anon, POSIX.procStatusKiB(pid: pid, field: "RssAnon") ?? 0)
            usleep(10_000)
        }
        result.largeDeliveredSeconds = Stopwatch.seconds(ContinuousClock.now - start)
        result.largeAnonKiB = anon
        guard let peak = POSIX.procStatusKiB(pid: pid, field: "VmHWM") else {
            throw BenchError("cannot read VmHWM of retract serve from /proc/\(pid)/status")
        }
        result.largePeakKiB = peak
        guard sink.bytes - sink.bytesBefore(count: before) >= result.largeBytes else {
            throw BenchError("the sink got fewer bytes than the large message has")
        }
        try? FileManager.default.removeItem(atPath: file)
    }

    private func check(_ client: SMTPLoadClient.Result, expected: Int, what: String) throws(BenchError) {
        guard client.accepted == expected else {
            throw BenchError(
                "\(what) accepted \(client.accepted) of \(expected) messages; first refusal: \(client.firstRefusal ?? "none")")
        }
    }

    // MARK: - Messages

    /// `mails` messages of about 2 KiB each, To an outsider and Cc a colleague.
    func messages(round: Int) -> [SMTPLoadClient.Mail] {
        let filler = String(repeating: "The quarterly figures are attached below; please read them before Monday. ", count: 40)
        return (0..<mails).map { index in
            var text = [
                "From: Alice Example <alice@corp.test>",
                "To: Bob <bob@partner.test>",
                "Cc: Carol <carol@corp.test>",
                "Subject: Figures \(round)-\(index)",
                "Date: Thu, 03 Dec 2026 10:00:00 +0000",
                "Message-ID: <bench-\(round)-\(index)-\(UUID().uuidString)@corp.test>",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8",
                "",
                "",
            ].joined(separator: "\r\n")
            var body = Substring(filler)
            while text.utf8.count < 2048 - 80, !body.isEmpty {
                text += body.prefix(76) + "\r\n"
                body = body.dropFirst(76)
            }
            return SMTPLoadClient.Mail(
                mailFrom: "alice@corp.test", recipients: ["bob@partner.test", "carol@corp.test"],
                content: .bytes(Array(text.utf8)))
        }
    }

    /// A MIME message of about `size` bytes: a text part and one base64 attachment of
    /// pseudo-random bytes, 76-character lines, CRLF. Returns its size.
    static func writeLargeMessage(to path: String, size: Int64) throws -> Int64 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw BenchError("cannot create \(path): \(POSIX.lastError)") }
        defer { close(fd) }
        let head = [
            "From: Alice Example <alice@corp.test>", "To: Bob <bob@partner.test>", "Cc: Carol <carol@corp.test>",
            "Subject: The whole archive", "Date: Thu, 03 Dec 2026 10:00:00 +0000",
            "Message-ID: <bench-large@corp.test>", "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"bench-boundary\"", "", "--bench-boundary",
            "Content-Type: text/plain; charset=utf-8", "", "The archive is attached.", "--bench-boundary",
            "Content-Type: application/octet-stream; name=\"archive.bin\"",
            "Content-Disposition: attachment; filename=\"archive.bin\"", "Content-Transfer-Encoding: base64", "", "",
        ].joined(separator: "\r\n")
        let tail = "--bench-boundary--\r\n"
        var written: Int64 = 0
        func put(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try POSIX.writeAll(fd, $0, path: path) }
            written += Int64(bytes.count)
        }
        try put(Array(head.utf8))
        var generator = SystemRandomNumberGenerator()
        var block: [UInt8] = []
        block.reserveCapacity(1 << 20)
        // 57 random bytes make one 76-character base64 line.
        let lines = (size - Int64(head.utf8.count) - Int64(tail.utf8.count)) / 78
        var remaining = lines
        while remaining > 0 {
            let batch = min(remaining, 13_000)
            for _ in 0..<batch {
                var raw = [UInt8](repeating: 0, count: 57)
                for index in 0..<57 { raw[index] = UInt8.random(in: 0...255, using: &generator) }
                block += Array(Data(raw).base64EncodedString().utf8) + [0x0D, 0x0A]
            }
            try put(block)
            block.removeAll(keepingCapacity: true)
            remaining -= batch
        }
        try put(Array(tail.utf8))
        return written
    }
}

/// Hands a client result from its thread to the caller.
private final class ResultBox: @unchecked Sendable {
    private var value: Swift.Result<SMTPLoadClient.Result, any Error>?
    private let lock = NSLock()
    func set(_ value: Swift.Result<SMTPLoadClient.Result, any Error>) { lock.withLock { self.value = value } }
    func take() throws -> SMTPLoadClient.Result {
        guard let value = lock.withLock({ self.value }) else { throw BenchError("the client thread gave no result") }
        return try value.get()
    }
}

/// `scripts/bench_count_sink.py`: an aiosmtpd sink that keeps nothing and logs a running
/// count of recipients and bytes with the time of each delivery.
final class CountingSink {
    let port: Int
    private let child: ChildProcess
    private let log: String

    init(script: String, directory: URL) throws {
        log = directory.appendingPathComponent("sink.log").path
        let out = directory.appendingPathComponent("sink.out").path
        let err = directory.appendingPathComponent("sink.err").path
        child = try ChildProcess(
            executable: GatewayBench.python, arguments: [script, "--log", log], environment: [:], standardOutput: out,
            standardError: err)
        port = try SMTPBench.waitForPort(out, sink: child)
    }

    func stop() {
        child.signal(SIGTERM)
        _ = try? child.wait(timeout: 5)
    }

    /// The log's entries: running recipient count, running bytes, time.
    private func entries() -> [(recipients: Int, bytes: Int64, time: Double)] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let count = Int(fields[0]), let bytes = Int64(fields[1]),
                let time = Double(fields[2])
            else { return nil }
            return (count, bytes, time)
        }
    }

    /// Recipients accepted so far.
    var count: Int { entries().last?.recipients ?? 0 }
    /// Bytes accepted so far.
    var bytes: Int64 { entries().last?.bytes ?? 0 }
    /// Bytes accepted by the time the count was `count`.
    func bytesBefore(count: Int) -> Int64 { entries().last { $0.recipients <= count }?.bytes ?? 0 }

    /// Waits until `recipients` were accepted in all; returns the time of the delivery that
    /// reached it (the `time.time()` clock).
    func waitFor(recipients: Int, timeout: Double, context: () -> String = { "" }) throws(BenchError) -> Double {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            let log = entries()
            if let reached = log.first(where: { $0.recipients >= recipients }) { return reached.time }
            guard ContinuousClock.now < deadline else {
                throw BenchError(
                    "the sink got \(log.last?.recipients ?? 0) of \(recipients) recipients within \(Int(timeout)) s. \(context())")
            }
            usleep(20_000)
        }
    }
}

/// A `retract serve` of the gateway figures, in a fresh data directory: the HTTP server on
/// a free port, the SMTP gateway on `smtpPort`, corp.test internal, mail out to `smtpURL`.
final class RetractServe {
    let child: ChildProcess

    init(executable: String, directory: URL, smtpPort: Int, smtpURL: String) throws {
        let folder = directory.appendingPathComponent("retract-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let global = ["--data-dir", folder.appendingPathComponent("data").path, "--keys-dir", folder.appendingPathComponent("keys").path]
        var environment = MemoryBench.environment
        environment["RETRACT_SMTP_URL"] = smtpURL
        environment["RETRACT_INTERNAL_DOMAINS"] = "corp.test"
        environment["RETRACT_FROM"] = "retract@corp.test"
        environment["RETRACT_MAX_MESSAGE"] = "1G"
        let initialize = try ChildProcess(
            executable: executable, arguments: ["init"] + global, environment: environment,
            standardOutput: folder.appendingPathComponent("init.out").path,
            standardError: folder.appendingPathComponent("init.err").path)
        guard try initialize.waitForExit(timeout: 60).status == 0 else {
            let errors = (try? String(contentsOf: folder.appendingPathComponent("init.err"), encoding: .utf8)) ?? ""
            throw BenchError("retract init failed: \(errors)")
        }
        let out = folder.appendingPathComponent("serve.out").path
        let err = folder.appendingPathComponent("serve.err").path
        child = try ChildProcess(
            executable: executable,
            arguments: ["serve"] + global + ["--host", "127.0.0.1", "--port", "0", "--smtp-listen", "127.0.0.1:\(smtpPort)"],
            environment: environment, standardOutput: out, standardError: err)
        _ = try child.waitForListeningPort(output: out, errors: err)
        guard BenchNetwork.waitForPort(smtpPort, seconds: 20) else {
            throw BenchError("retract serve does not listen on SMTP port \(smtpPort): \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        }
    }

    func stop() {
        child.signal(SIGTERM)
        if (try? child.wait(timeout: 30)) == nil {
            child.signal(SIGKILL)
            _ = try? child.wait(timeout: 5)
        }
    }
}
