import Foundation
import Logging
import Mail
import RetractCore

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 4's speed figure: delivering N queued notifications to a local aiosmtpd sink
/// (`Tests/Support/smtp_sink.py --maildir --pipelining`, STARTTLS off, PIPELINING advertised
/// as by Postfix and most servers; smtplib does not use it) with
/// `RetractService.deliverDueMail()` over `SMTPTransport`, against Python's `smtplib`
/// sending the same N messages (the bytes the sink received from Retract, with their
/// envelopes) over one reused connection (`scripts/bench_smtplib.py`).
///
/// Each Retract round sends one message with N Bcc recipients and a one-hour delay into a
/// fresh data directory (so the N notifications are queued, not delivered), then times
/// `deliverDueMail()` of a service over the same vault whose transport is the one
/// `retract serve` makes for `RETRACT_SMTP_URL=smtp://127.0.0.1:PORT` with the default
/// `RETRACT_SMTP_CONNECTIONS` (four `SMTPTransport` connections, one delivery lane each) and
/// whose clock is two hours ahead. That is the worker's whole path: claims in batches of 100,
/// per mail decrypting the sealed mail, the SMTP transaction, and the commit that marks it
/// sent and checks the next one. Rounds
/// alternate Retract and baseline; the best of each is kept. The breakdown adds the same
/// worker against a second sink that does not advertise PIPELINING, the client alone, and
/// the worker alone.
struct SMTPBench {
    let mails: Int
    let rounds: Int
    /// Whether to measure the breakdown rows too.
    let breakdown: Bool
    let workDirectory: URL
    let sinkScript: String
    let baselineScript: String
    static let python = "/usr/bin/python3"

    struct Result {
        var mails: Int
        var retractSeconds: [Double]
        var baselineSeconds: [Double]
        /// Average size of one message, bytes.
        var averageBytes: Int
        var queueSeconds: Double
        /// `SMTPTransport.deliver` of the same messages in a loop, no vault (the client alone).
        var transportSeconds: [Double] = []
        /// `deliverDueMail` against a sink that does not advertise PIPELINING.
        var withoutPipeliningSeconds: [Double] = []
        /// `deliverDueMail` of N queued mails with a no-op transport (the worker's vault work alone).
        var workerSeconds: [Double] = []

        var retractBest: Double { retractSeconds.min() ?? .infinity }
        var baselineBest: Double { baselineSeconds.min() ?? .infinity }
        var retractRate: Double { Double(mails) / retractBest }
        var baselineRate: Double { Double(mails) / baselineBest }
        var ratio: Double { retractRate / baselineRate }
    }

    func run() async throws -> Result {
        let directory = workDirectory.appendingPathComponent("smtp")
        let messages = directory.appendingPathComponent("messages")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: messages, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let maildir = try Self.sinkDirectory(fallback: directory)
        defer { try? FileManager.default.removeItem(at: maildir) }
        RetractBench.progress("smtp: the sink stores mail in \(maildir.path)")

        let portFile = directory.appendingPathComponent("sink.out").path
        let sink = try ChildProcess(
            executable: Self.python, arguments: [sinkScript, "--maildir", maildir.path, "--pipelining"],
            environment: [:], standardOutput: portFile,
            standardError: directory.appendingPathComponent("sink.err").path)
        defer {
            sink.signal(SIGTERM)
            _ = try? sink.wait(timeout: 5)
        }
        let port = try Self.waitForPort(portFile, sink: sink)
        RetractBench.progress("smtp: sink listening on 127.0.0.1:\(port)")
        let plainPortFile = directory.appendingPathComponent("plain-sink.out").path
        let plainSink = try ChildProcess(
            executable: Self.python, arguments: [sinkScript, "--maildir", maildir.path], environment: [:],
            standardOutput: plainPortFile, standardError: directory.appendingPathComponent("plain-sink.err").path)
        defer {
            plainSink.signal(SIGTERM)
            _ = try? plainSink.wait(timeout: 5)
        }
        let plainPort = try Self.waitForPort(plainPortFile, sink: plainSink)

        var result = Result(mails: mails, retractSeconds: [], baselineSeconds: [], averageBytes: 0, queueSeconds: 0)
        for round in 0..<rounds {
            RetractBench.progress("smtp: round \(round + 1) of \(rounds): Retract deliverDueMail, \(mails) mails")
            let (seconds, queued) = try await retractRound(index: round, port: port)
            result.retractSeconds.append(seconds)
            if round == 0 {
                result.queueSeconds = queued
            } else {
                result.queueSeconds = min(result.queueSeconds, queued)
            }
            let received = try Self.takeMail(from: maildir, into: round == 0 ? messages : nil)
            guard received == mails else { throw BenchError("the sink received \(received) mails, expected \(mails)") }
            if round == 0 {
                let sizes = try FileManager.default.contentsOfDirectory(atPath: messages.path)
                    .filter { $0.hasSuffix(".eml") }.map { POSIX.fileSize(messages.appendingPathComponent($0).path) }
                result.averageBytes = Int(sizes.reduce(0, +)) / max(sizes.count, 1)
            }

            RetractBench.progress("smtp: round \(round + 1) of \(rounds): smtplib baseline, \(mails) mails")
            result.baselineSeconds.append(try baselineRound(port: port, messages: messages, directory: directory))
            let baselineReceived = try Self.takeMail(from: maildir, into: nil)
            guard baselineReceived == mails else {
                throw BenchError("the sink received \(baselineReceived) mails from smtplib, expected \(mails)")
            }

            // Where Retract's time goes: without PIPELINING, the client alone, the worker alone.
            guard breakdown else { continue }
            RetractBench.progress(
                "smtp: round \(round + 1) of \(rounds): breakdown (no PIPELINING, transport alone, worker alone)")
            result.withoutPipeliningSeconds.append(try await retractRound(index: round, port: plainPort).0)
            guard try Self.takeMail(from: maildir, into: nil) == mails else {
                throw BenchError("deliverDueMail without PIPELINING lost mail")
            }
            let loaded = try Self.load(messages)
            result.transportSeconds.append(try await transportRound(port: port, messages: loaded))
            guard try Self.takeMail(from: maildir, into: nil) == mails else {
                throw BenchError("transport loop lost mail")
            }
            result.workerSeconds.append(try await workerRound(index: round))
        }
        return result
    }

    /// Queues `mails` notifications in a fresh vault and times their delivery over SMTP.
    private func retractRound(index: Int, port: Int) async throws -> (Double, Double) {
        let directory = workDirectory.appendingPathComponent("smtp/retract-\(index)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = RetractConfiguration(
            dataDirectory: directory.appendingPathComponent("data"),
            keysDirectory: directory.appendingPathComponent("keys"))
        try RetractService.initialize(configuration)
        let sender = try RetractService.open(configuration, transport: NullTransport())
        let draft = Draft(
            from: "Bench Sender <sender@example.com>", to: [], bcc: (0..<mails).map { "reader\($0)@example.net" },
            subject: "retract-bench smtp", body: "A notification delivered over SMTP.", delay: 3600)
        let (receipt, queueSeconds) = try await Stopwatch.measureAsync { try await sender.send(draft) }
        guard receipt.recipients.count == mails, receipt.recipients.allSatisfy({ $0.delivery == "queued" }) else {
            throw BenchError("the send did not queue \(mails) notifications")
        }
        var smtp = configuration
        smtp.smtpURL = "smtp://127.0.0.1:\(port)"
        let transport = try RetractService.makeTransport(smtp)
        let worker = RetractService(
            configuration: configuration, vault: sender.vault, keys: sender.keys, templates: sender.templates,
            transport: transport, logger: sender.logger, now: { Date().addingTimeInterval(7200) })
        let (run, seconds) = try await Stopwatch.measureAsync { await worker.deliverDueMail() }
        await transport.closeConnections()
        guard run.delivered == mails else {
            throw BenchError(
                "deliverDueMail delivered \(run.delivered) of \(mails) (deferred \(run.deferred), failed \(run.failed))"
            )
        }
        return (seconds, queueSeconds)
    }

    /// One pre-built message with its envelope.
    struct Message: Sendable {
        var bytes: [UInt8]
        var envelope: MailEnvelope
        var id: String
    }

    /// The messages the sink stored, with their envelopes.
    private static func load(_ directory: URL) throws -> [Message] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".eml") }
            .sorted()
        return try names.map { name in
            let base = directory.appendingPathComponent(String(name.dropLast(4)))
            let bytes = try [UInt8](Data(contentsOf: base.appendingPathExtension("eml")))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathExtension("json")))
            guard let object = json as? [String: Any], let from = object["mail_from"] as? String,
                let to = object["rcpt_tos"] as? [String]
            else { throw BenchError("\(base.path).json is not an envelope") }
            return Message(
                bytes: bytes, envelope: MailEnvelope(mailFrom: from, recipients: to), id: "bench-\(name.dropLast(4))")
        }
    }

    /// `SMTPTransport.deliver` of every message in a loop, no vault.
    private func transportRound(port: Int, messages: [Message]) async throws -> Double {
        let transport = SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)"))
        let (_, seconds) = try await Stopwatch.measureAsync {
            for message in messages {
                try await transport.deliver(message.bytes, envelope: message.envelope, id: message.id)
            }
        }
        await transport.close()
        return seconds
    }

    /// `deliverDueMail` of `mails` queued notifications with a no-op transport.
    private func workerRound(index: Int) async throws -> Double {
        let directory = workDirectory.appendingPathComponent("smtp/worker-\(index)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = RetractConfiguration(
            dataDirectory: directory.appendingPathComponent("data"),
            keysDirectory: directory.appendingPathComponent("keys"))
        try RetractService.initialize(configuration)
        let sender = try RetractService.open(configuration, transport: NullTransport())
        let draft = Draft(
            from: "Bench Sender <sender@example.com>", to: [], bcc: (0..<mails).map { "reader\($0)@example.net" },
            subject: "retract-bench smtp", body: "A notification delivered over SMTP.", delay: 3600)
        _ = try await sender.send(draft)
        let worker = RetractService(
            configuration: configuration, vault: sender.vault, keys: sender.keys, templates: sender.templates,
            transport: NullTransport(), logger: sender.logger, now: { Date().addingTimeInterval(7200) })
        let (run, seconds) = try await Stopwatch.measureAsync { await worker.deliverDueMail() }
        guard run.delivered == mails else { throw BenchError("no-op worker delivered \(run.delivered) of \(mails)") }
        return seconds
    }

    /// Runs the smtplib script over `messages`; returns its seconds.
    private func baselineRound(port: Int, messages: URL, directory: URL) throws -> Double {
        let output = directory.appendingPathComponent("smtplib.out").path
        let errors = directory.appendingPathComponent("smtplib.err").path
        let child = try ChildProcess(
            executable: Self.python, arguments: [baselineScript, "--port", "\(port)", "--dir", messages.path],
            environment: [:], standardOutput: output, standardError: errors)
        let exit = try child.waitForExit(timeout: 600)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard exit.status == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let seconds = object["seconds"] as? Double, (object["messages"] as? Int) == mails
        else {
            let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw BenchError("\(baselineScript) failed (exit \(exit.status)): \(text) \(stderr)")
        }
        return seconds
    }

    /// Where the sink stores mail: a fresh folder in memory (`/dev/shm`) when the machine has
    /// one, else under `fallback`.
    ///
    /// In memory because the sink shares this machine's disk with the vault only because the
    /// benchmark runs both on one machine. On the disk, every file the sink creates is an
    /// ext4 inode allocation and journal entry that contends with the client's own commits
    /// (and with inodes the previous step deleted), so the sink's cost per mail swung from
    /// 0.8 to 1.6 ms between steps of one run and depended on which client had written to the
    /// disk before; a real mail server has its own disk.
    private static func sinkDirectory(fallback: URL) throws -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue,
            access("/dev/shm", W_OK) == 0
        {
            return try RetractBench.makeScratchDirectory(in: "/dev/shm")
        }
        let maildir = fallback.appendingPathComponent("sink")
        try FileManager.default.createDirectory(at: maildir, withIntermediateDirectories: true)
        return maildir
    }

    /// Moves (or deletes) the mails the sink stored; returns how many there were.
    private static func takeMail(from maildir: URL, into target: URL?) throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: maildir.path)
        var count = 0
        for name in names where name.hasSuffix(".eml") || name.hasSuffix(".json") {
            let source = maildir.appendingPathComponent(name)
            if name.hasSuffix(".eml") { count += 1 }
            if let target {
                try FileManager.default.moveItem(at: source, to: target.appendingPathComponent(name))
            } else {
                try FileManager.default.removeItem(at: source)
            }
        }
        try? FileManager.default.removeItem(at: maildir.appendingPathComponent("ehlo.log"))
        return count
    }

    /// The port the sink prints on its first line.
    static func waitForPort(_ path: String, sink: ChildProcess) throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n"),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return port
            }
            if let exit = try sink.poll() {
                throw BenchError("the SMTP sink exited with status \(exit.status) before printing its port")
            }
            usleep(20_000)
        }
        throw BenchError("the SMTP sink did not print its port within 20 s")
    }

    /// `relative` (a path from the repository root) from the working directory, else from
    /// the repository this executable was built in (`<repo>/.build*/release/retract-bench`).
    static func locate(_ relative: String) throws -> String {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: relative) { return URL(fileURLWithPath: relative).path }
        var directory = URL(fileURLWithPath: RetractBench.ownExecutable()).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(relative).path
            if fileManager.fileExists(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw BenchError("cannot find \(relative); run retract-bench from the repository root or use --skip-smtp")
    }
}
