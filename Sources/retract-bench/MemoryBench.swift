import Foundation
import Seal

#if canImport(Glibc)
    import Glibc
#endif

/// Peak resident memory of the real executables: `retract send --attach` of one file, then
/// `retract serve` answering one download of it over HTTP.
///
/// The sender's peak is its `ru_maxrss`, collected by a small `retract-bench
/// --measure-child` process that starts it (see `MeasuredLaunch` for why not directly).
/// The server runs as a direct child; its peak is `VmHWM` from `/proc/<pid>/status`, read
/// after the download and before it is stopped, and its resident size right after start-up
/// is reported too, so the download's own share is visible. The HTTP client is
/// `HTTPDownload`, in this process, so none of the client's memory is counted.
///
/// Most of a Swift server's resident set is file-backed code (the binary, Foundation, ICU),
/// shared and reclaimable; the heap is the part that could grow with an attachment. So
/// the anonymous part (`RssAnon`) is sampled too: every 10 ms during the send, every 4 MiB
/// of the download. Sampled maxima can miss a short spike; the judged figure is the peak.
struct MemoryBench {
    /// The `retract` executable.
    let retract: String
    /// This executable, started in its `--measure-child` mode around `retract send`.
    let launcher: String
    /// The attachment.
    let file: String
    /// Its content, to check the download against.
    let pattern: PatternFile
    /// A folder of its own for this measurement; removed by the caller.
    let directory: URL

    /// The figures of one attachment size.
    struct Result {
        /// Attachment bytes.
        var size: Int64
        /// Peak RSS of `retract send`, KiB.
        var sendPeakKiB: Int
        /// The launcher's own peak: `sendPeakKiB` is exact only above it.
        var launcherPeakKiB: Int
        /// Largest `RssAnon` of `retract send` seen while sampling, KiB.
        var sendAnonKiB: Int
        /// Wall seconds of `retract send` (process start to exit).
        var sendSeconds: Double
        /// RSS of `retract serve` once it listens, KiB.
        var serveIdleKiB: Int
        /// Peak RSS of `retract serve` over start-up and the download, KiB.
        var servePeakKiB: Int
        /// `RssAnon` of `retract serve` once it listens, KiB.
        var serveIdleAnonKiB: Int
        /// Largest `RssAnon` of `retract serve` seen during the download, KiB.
        var serveAnonKiB: Int
        /// Wall seconds of the HTTP download.
        var downloadSeconds: Double
    }

    /// Runs init, send, serve and the download.
    func run() throws(BenchError) -> Result {
        let data = directory.appendingPathComponent("data").path
        let keys = directory.appendingPathComponent("keys").path
        let global = ["--data-dir", data, "--keys-dir", keys]
        let size = POSIX.fileSize(file)

        try runToEnd(retract, ["init"] + global, name: "init", timeout: 60)

        let measured = directory.appendingPathComponent("send.rusage").path
        var sendAnon = 0
        let (sendOutput, sendSeconds) = try Stopwatch.measure { () throws(BenchError) in
            try runToEnd(
                sampling: { launcher in
                    guard let sender = POSIX.firstChild(of: launcher),
                        let anon = POSIX.procStatusKiB(pid: sender, field: "RssAnon")
                    else { return }
                    sendAnon = max(sendAnon, anon)
                },
                launcher,
                [MeasuredLaunch.flag, measured, retract, "send"] + global + [
                    "--from", "Bench Sender <sender@example.com>", "--to", "reader@example.net", "--subject",
                    "retract-bench", "--body", "A \(size)-byte attachment.", "--attach", file, "--json", "--show-links",
                ], name: "send", timeout: 900)
        }
        let send = try MeasuredLaunch.readResult(measured)
        let link = try Self.link(fromSendJSON: sendOutput)

        let serveOut = directory.appendingPathComponent("serve.out").path
        let serveErr = directory.appendingPathComponent("serve.err").path
        let server = try ChildProcess(
            executable: retract, arguments: ["serve"] + global + ["--host", "127.0.0.1", "--port", "0"],
            environment: Self.environment, standardOutput: serveOut, standardError: serveErr)
        defer {
            if server.isRunning {
                server.signal(SIGKILL)
                _ = try? server.wait(timeout: 5)
            }
        }
        let port = try server.waitForListeningPort(output: serveOut, errors: serveErr)
        let idle = POSIX.procStatusKiB(pid: server.pid, field: "VmRSS") ?? 0
        let idleAnon = POSIX.procStatusKiB(pid: server.pid, field: "RssAnon") ?? 0
        var serveAnon = idleAnon

        let (answer, downloadSeconds) = try Stopwatch.measure { () throws(BenchError) in
            try HTTPDownload(port: port).post(
                path: "/m/\(link.token.base64url)/attachments/1", json: "{\"key\":\"\(link.linkKey.base64url)\"}",
                pattern: pattern
            ) {
                serveAnon = max(serveAnon, POSIX.procStatusKiB(pid: server.pid, field: "RssAnon") ?? 0)
            }
        }
        let highWater = POSIX.procStatusKiB(pid: server.pid, field: "VmHWM")
        server.signal(SIGTERM)
        _ = try server.waitForExit(timeout: 30)
        guard let highWater else {
            throw BenchError("cannot read VmHWM of retract serve from /proc/\(server.pid)/status")
        }
        guard answer.status == 200 else {
            throw BenchError("the download answered \(answer.status): \(answer.errorText)")
        }
        guard answer.bodyBytes == size, answer.matchesPattern else {
            throw BenchError(
                "the download returned \(answer.bodyBytes) of \(size) bytes"
                    + (answer.matchesPattern ? "" : ", and they differ from the attachment"))
        }
        return Result(
            size: size, sendPeakKiB: send.peakKiB, launcherPeakKiB: send.floorKiB, sendAnonKiB: sendAnon,
            sendSeconds: sendSeconds, serveIdleKiB: idle, servePeakKiB: highWater, serveIdleAnonKiB: idleAnon,
            serveAnonKiB: serveAnon, downloadSeconds: downloadSeconds)
    }

    /// The environment of every child: this one's, minus settings that would change what
    /// is measured (a send delay, another transport or public URL, chatty logs).
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in [
            "RETRACT_SEND_DELAY", "RETRACT_SMTP_URL", "RETRACT_PUBLIC_URL", "RETRACT_TEMPLATES_DIR", "LOG_LEVEL",
        ] {
            environment[name] = nil
        }
        return environment
    }

    /// Runs `executable <arguments>` to its end; returns its standard output, or throws with
    /// its standard error when it fails.
    @discardableResult
    private func runToEnd(
        sampling: (pid_t) -> Void = { _ in }, _ executable: String, _ arguments: [String], name: String,
        timeout: Double
    ) throws(BenchError) -> String {
        let out = directory.appendingPathComponent("\(name).out").path
        let err = directory.appendingPathComponent("\(name).err").path
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: Self.environment, standardOutput: out,
            standardError: err)
        let exit = try child.waitForExit(timeout: timeout) { sampling(child.pid) }
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard exit.status == 0 else {
            let errors = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            throw BenchError(
                "retract \(name) exited with \(exit.status): \(errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }

    /// The first recipient's link from `retract send --json --show-links`.
    static func link(fromSendJSON text: String) throws(BenchError) -> Link {
        struct Output: Decodable {
            struct Recipient: Decodable { let link: String? }
            let recipients: [Recipient]
        }
        guard let output = try? JSONDecoder().decode(Output.self, from: Data(text.utf8)),
            let linkText = output.recipients.first?.link
        else { throw BenchError("retract send --json --show-links printed no link: \(text.prefix(200))") }
        do {
            return try Link.parse(linkText)
        } catch {
            throw BenchError("retract send printed a link that does not parse: \(error)")
        }
    }
}
