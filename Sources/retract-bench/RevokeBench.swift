import Foundation
import Logging
import Mail
import RetractCore
import Seal
import Synchronization

/// A transport that accepts every mail and does nothing: sets up a sent message quickly
/// (its notifications must be `sent`, or revoking cancels them instead of queuing notices).
struct NullTransport: MailTransport {
    func deliver(_ data: [UInt8], envelope: MailEnvelope, id: String) async throws(MailError) {}
}

/// A flag one task sets and another polls.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// A log handler that records the instant a given message is logged; `revokeQueuingNotices`
/// logs "message revoked" right after the revocation transaction and its WAL checkpoint, as
/// its last step, so this marks the commit without changing RetractCore.
struct MarkLogHandler: LogHandler {
    final class Marks: Sendable {
        let times = Mutex<[String: ContinuousClock.Instant]>([:])
        func reset() { times.withLock { $0 = [:] } }
        func time(of message: String) -> ContinuousClock.Instant? { times.withLock { $0[message] } }
    }

    let marks: Marks
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        let now = ContinuousClock.now
        marks.times.withLock { $0[message.description] = now }
        if level >= .warning {
            FileHandle.standardError.write(Data("retract-bench: [retract] \(level): \(message)\n".utf8))
        }
    }
}

/// Issue 3's speed figures: revoking a message sent to many recipients, and whether a
/// concurrent open is refused as soon as `revoke` returns.
///
/// Each run sends one message with N Bcc recipients into a fresh data directory through a
/// no-op transport (so every notification is `sent` and the revocation queues N notices),
/// then times what `retract revoke` does, on a service whose transport is the file outbox in
/// that data directory: `RetractService.revokeQueuingNotices(RevokeRequest(messageID:))` —
/// its checks, the N withdrawal notices and the sender's report rendered and sealed in
/// parallel, the one revocation transaction (N grants lose their keys, notices queued, the
/// sealed parts deleted), the WAL checkpoint (TRUNCATE) — which is the judged figure, then
/// the delivery pass (`deliverDueMail`) that writes the N + 1 `.eml` files with an fsync
/// each, which the command runs after printing the report.
struct RevokeBench {
    let recipients: Int
    let workDirectory: URL

    struct Result {
        var recipients: Int
        /// `send` of the N-recipient message (no-op transport), seconds; setup, not judged.
        var sendSeconds: Double
        /// revokeQueuingNotices called → returned: transaction committed, checkpoint done,
        /// notices queued.
        var commitSeconds: Double
        /// The above plus the delivery pass writing the .eml files.
        var totalSeconds: Double
        /// Mails the delivery pass wrote.
        var filesWritten: Int
        /// The concurrent-open run.
        var concurrent: Concurrent
    }

    struct Concurrent {
        /// revokeQueuingNotices's time in this run (slowed by the opener sharing the CPU).
        var commitSeconds: Double
        var totalSeconds: Double
        /// Opens that started before the commit and succeeded / were refused.
        var openedBeforeCommit: Int
        /// Opens that started after the commit (mark) and succeeded: must be 0.
        var openedAfterCommit: Int
        /// Opens that started after revoke returned and succeeded: must be 0.
        var openedAfterReturn: Int
        /// Opens that started after revoke returned and were refused.
        var refusedAfterReturn: Int
        /// Whether the first open started after revoke returned was refused.
        var firstAfterReturnRefused: Bool
        /// From revoke returning to the refusal of that first open, seconds.
        var refusalLatencySeconds: Double?
        /// The refusal it got.
        var refusal: String
    }

    func run(runs: Int) async throws -> Result {
        var best: Result?
        var times: [Double] = []
        for index in 0..<runs {
            RetractBench.progress("revoke: run \(index + 1) of \(runs), \(recipients) recipients")
            let (setup, send) = try await prepare(index: "plain-\(index)")
            defer { try? FileManager.default.removeItem(at: setup.directory) }
            let service = setup.revoker
            let clock = ContinuousClock()
            let start = clock.now
            let report = try await service.revokeQueuingNotices(RevokeRequest(messageID: setup.messageID))
            let queued = clock.now
            _ = await service.deliverDueMail()
            let end = clock.now
            guard report.recipients.count == recipients, report.recipients.allSatisfy({ $0.notice == "withdrawal" })
            else {
                throw BenchError(
                    "revoke reported \(report.recipients.count) recipients, not all with a withdrawal notice")
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: setup.outbox.path)
                .filter { $0.hasSuffix(".eml") }.count
            guard files == recipients + 1 else {
                throw BenchError("the delivery pass wrote \(files) .eml files, expected \(recipients + 1)")
            }
            let result = Result(
                recipients: recipients, sendSeconds: send, commitSeconds: Stopwatch.seconds(queued - start),
                totalSeconds: Stopwatch.seconds(end - start), filesWritten: files,
                concurrent: Concurrent(
                    commitSeconds: 0, totalSeconds: 0, openedBeforeCommit: 0, openedAfterCommit: 0,
                    openedAfterReturn: 0,
                    refusedAfterReturn: 0, firstAfterReturnRefused: false, refusalLatencySeconds: nil, refusal: ""))
            times.append(result.commitSeconds)
            RetractBench.progress(
                String(format: "revoke: run %d: %.3f s to queue, %.3f s with delivery", index + 1, result.commitSeconds,
                    result.totalSeconds))
            if best == nil || result.commitSeconds < best!.commitSeconds { best = result }
        }
        let sorted = times.sorted()
        RetractBench.progress(
            String(format: "revoke: best %.3f s, median %.3f s of %d runs", sorted[0], sorted[sorted.count / 2], runs))
        RetractBench.progress("revoke: with an open loop running on another task")
        best!.concurrent = try await concurrentRun()
        return best!
    }

    private struct Setup {
        var directory: URL
        var outbox: URL
        var messageID: String
        var link: Link
        var revoker: RetractService
        var marks: MarkLogHandler.Marks
    }

    /// A fresh data directory with one message sent to `recipients` Bcc recipients, all
    /// notifications `sent`; returns it and the send's seconds.
    private func prepare(index: String) async throws -> (Setup, Double) {
        let directory = workDirectory.appendingPathComponent("revoke-\(index)")
        let configuration = RetractConfiguration(
            dataDirectory: directory.appendingPathComponent("data"),
            keysDirectory: directory.appendingPathComponent("keys"))
        try RetractService.initialize(configuration)
        let sender = try RetractService.open(configuration, transport: NullTransport())
        let bcc = (0..<recipients).map { "reader\($0)@example.net" }
        let draft = Draft(
            from: "Bench Sender <sender@example.com>", to: [], bcc: bcc, subject: "retract-bench revoke",
            body: "A message to \(recipients) recipients.")
        let (receipt, sendSeconds) = try await Stopwatch.measureAsync { try await sender.send(draft) }
        guard receipt.recipients.count == recipients, receipt.recipients.allSatisfy({ $0.delivery == "sent" }) else {
            throw BenchError("send to \(recipients) recipients did not mark every notification sent")
        }
        let marks = MarkLogHandler.Marks()
        let logger = Logger(label: "retract-bench.revoke") { _ in MarkLogHandler(marks: marks) }
        let revoker = try RetractService.open(configuration, logger: logger)
        let link = try Link.parse(receipt.recipients[recipients / 2].link)
        return (
            Setup(
                directory: directory, outbox: configuration.outboxDirectory, messageID: receipt.messageID, link: link,
                revoker: revoker, marks: marks), sendSeconds
        )
    }

    /// One revoke while another task opens one recipient's link in a loop.
    private func concurrentRun() async throws -> Concurrent {
        let (setup, _) = try await prepare(index: "concurrent")
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let service = setup.revoker
        let link = setup.link
        // Check the link opens before revoking.
        do { _ = try await service.open(token: link.token, linkKey: link.linkKey) } catch {
            throw BenchError("the link did not open before revocation: \(error)")
        }
        struct Attempt {
            var start: ContinuousClock.Instant
            var end: ContinuousClock.Instant
            var opened: Bool
            var failure: String
        }
        let stop = StopFlag()
        let opener = Task.detached { () -> [Attempt] in
            var attempts: [Attempt] = []
            while !stop.value.load(ordering: .acquiring) {
                let start = ContinuousClock.now
                var opened = true
                var failure = ""
                do { _ = try await service.open(token: link.token, linkKey: link.linkKey) } catch {
                    opened = false
                    failure = "\(error)"
                }
                attempts.append(Attempt(start: start, end: .now, opened: opened, failure: failure))
            }
            return attempts
        }
        try await Task.sleep(for: .milliseconds(50))
        let start = ContinuousClock.now
        _ = try await service.revokeQueuingNotices(RevokeRequest(messageID: setup.messageID))
        let returned = ContinuousClock.now
        // Let the opener make a few requests after the return, then stop it.
        try await Task.sleep(for: .milliseconds(100))
        stop.value.store(true, ordering: .releasing)
        let attempts = await opener.value
        let deliveryStart = ContinuousClock.now
        _ = await service.deliverDueMail()
        let delivery = ContinuousClock.now - deliveryStart
        guard let committed = setup.marks.time(of: "message revoked") else {
            throw BenchError("revoke did not log \"message revoked\"")
        }
        let afterReturn = attempts.filter { $0.start >= returned }
        let first = afterReturn.first
        return Concurrent(
            commitSeconds: Stopwatch.seconds(committed - start),
            totalSeconds: Stopwatch.seconds(returned - start) + Stopwatch.seconds(delivery),
            openedBeforeCommit: attempts.filter { $0.start < committed && $0.opened }.count,
            openedAfterCommit: attempts.filter { $0.start >= committed && $0.opened }.count,
            openedAfterReturn: afterReturn.filter(\.opened).count,
            refusedAfterReturn: afterReturn.filter { !$0.opened }.count,
            firstAfterReturnRefused: first.map { !$0.opened } ?? false,
            refusalLatencySeconds: first.map { Stopwatch.seconds($0.end - returned) },
            refusal: first?.failure ?? "no open started after revoke returned")
    }
}
