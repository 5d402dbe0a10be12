import Foundation
import Seal

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 5's speed figure: `wrk` against the release `retract serve` on loopback, beside
/// a static 2 KiB file served by nginx as the machine's HTTP ceiling, in one run.
///
/// Sets up a fresh data directory, sends one message with a 2 KiB body and no view limit
/// (every successful open counts a view and appends to the access log, so a limit would
/// turn the run into 410s), starts `retract serve --port 0` and nginx (Debian's
/// `nginx-light`, as this user, with a generated configuration whose pid, log and temp
/// paths are all in the temporary folder, `daemon off`, on a free port), then, round after
/// round, runs `wrk -t2 -c32 --latency` for the same duration on: the static file (nginx),
/// `GET /healthz` (the framework's floor), `GET /m/{token}` and `POST /m/{token}/open` (a
/// small Lua script posts `{"key": …}`). Rounds interleave the targets so load from
/// elsewhere falls on all of them alike.
///
/// A run with any socket error or non-2xx answer fails the benchmark rather than being
/// reported, and after the runs the message's view counter must be at least the number of
/// opens wrk counted, so the figure is of opens that were really counted.
struct HTTPBench {
    /// The release `retract` executable.
    let retract: String
    /// A folder of its own, removed by the caller.
    let directory: URL
    /// Seconds per wrk run.
    let duration: Int
    /// Interleaved rounds; best and median are reported.
    let rounds: Int
    /// wrk's `-c`.
    let connections: Int
    /// wrk's `-t`.
    let threads: Int

    /// Bytes of the static file and of the message body.
    static let payloadBytes = 2048

    /// The targets, in the order each round runs them. `/healthz` (a fixed JSON answer, no
    /// vault) is not judged: it is the floor of Hummingbird on this machine, so a gap can be
    /// placed on the framework or on Retract's own work.
    enum Target: String, CaseIterable {
        case nginx = "nginx: GET static 2 KiB file"
        case health = "retract: GET /healthz (floor)"
        case page = "retract: GET /m/{token}"
        case open = "retract: POST /m/{token}/open"
    }

    /// Every wrk run, per target, in round order.
    struct Result {
        var runs: [Target: [WrkResult]]
        var duration: Int
        var connections: Int
        var threads: Int
        /// The message's view counter after all runs, and the opens wrk counted.
        var viewsCounted: Int
        var opensCompleted: Int

        func rates(_ target: Target) -> [Double] { (runs[target] ?? []).map(\.requestsPerSecond) }
        func p99s(_ target: Target) -> [Double] { (runs[target] ?? []).map(\.p99) }
        func best(_ target: Target) -> Double { rates(target).max() ?? 0 }
        func median(_ target: Target) -> Double { Self.median(rates(target)) }
        func medianP99(_ target: Target) -> Double { Self.median(p99s(target)) }
        func bestP99(_ target: Target) -> Double { p99s(target).min() ?? .infinity }

        /// Open rate over nginx's, best against best (the figure judged) and median against median.
        var bestRatio: Double { best(.open) / max(best(.nginx), 1) }
        var medianRatio: Double { median(.open) / max(median(.nginx), 1) }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }
    }

    /// Where wrk and nginx are; a missing one stops the benchmark with what to install.
    static func tools() throws(BenchError) -> (wrk: String, nginx: String) {
        func executable(_ candidates: [String]) -> String? {
            candidates.first { (path: String) in access(path, X_OK) == 0 }
        }
        let wrk = executable(["/usr/bin/wrk", "/usr/local/bin/wrk"])
        let nginx = executable(["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"])
        guard let wrk, let nginx else {
            throw BenchError(
                "the HTTP figure needs wrk and nginx (Debian: apt-get install wrk nginx-light, or make bench-deps); "
                    + "or pass --skip-http")
        }
        return (wrk, nginx)
    }

    func run() throws(BenchError) -> Result {
        let (wrk, nginxPath) = try Self.tools()
        try makeDirectory(directory)
        let data = directory.appendingPathComponent("data").path
        let keys = directory.appendingPathComponent("keys").path
        let global = ["--data-dir", data, "--keys-dir", keys]

        // The message: a 2 KiB body, no view limit.
        RetractBench.progress("http: retract init, send one 2 KiB message")
        let body = directory.appendingPathComponent("body.txt").path
        try write(Self.payload(), to: body)
        try runToEnd(retract, ["init"] + global, name: "init")
        let sent = try runToEnd(
            retract,
            ["send"] + global + [
                "--from", "Bench Sender <sender@example.com>", "--to", "reader@example.net", "--subject",
                "retract-bench http", "--body-file", body, "--json", "--show-links",
            ], name: "send")
        let link = try MemoryBench.link(fromSendJSON: sent)
        let messageID = try Self.messageID(fromSendJSON: sent)
        let token = link.token.base64url

        // The servers.
        let serveOut = directory.appendingPathComponent("serve.out").path
        let serveErr = directory.appendingPathComponent("serve.err").path
        let server = try ChildProcess(
            executable: retract, arguments: ["serve"] + global + ["--host", "127.0.0.1", "--port", "0"],
            environment: MemoryBench.environment, standardOutput: serveOut, standardError: serveErr)
        defer { Self.stop(server) }
        let retractPort = try server.waitForListeningPort(output: serveOut, errors: serveErr)

        let nginxPort = try Self.freePort()
        let nginxDirectory = directory.appendingPathComponent("nginx")
        try writeNginxSite(in: nginxDirectory, port: nginxPort)
        let nginx = try ChildProcess(
            executable: nginxPath,
            arguments: [
                "-p", nginxDirectory.path, "-c", nginxDirectory.appendingPathComponent("nginx.conf").path, "-e",
                nginxDirectory.appendingPathComponent("error.log").path,
            ], environment: [:], standardOutput: nginxDirectory.appendingPathComponent("nginx.out").path,
            standardError: nginxDirectory.appendingPathComponent("nginx.err").path)
        defer { Self.stop(nginx) }
        try waitForPort(nginxPort, process: nginx, name: "nginx", log: nginxDirectory.appendingPathComponent("error.log"))
        RetractBench.progress("http: retract serve on 127.0.0.1:\(retractPort), nginx on 127.0.0.1:\(nginxPort)")

        // The targets, each checked once with a warm-up before anything is timed.
        let openScript = directory.appendingPathComponent("open.lua").path
        try write(
            Array(
                """
                wrk.method = "POST"
                wrk.body = '{"key":"\(link.linkKey.base64url)"}'
                wrk.headers["Content-Type"] = "application/json"

                """.utf8), to: openScript)
        func arguments(_ target: Target, seconds: Int) -> [String] {
            var arguments = ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency"]
            switch target {
            case .nginx: arguments.append("http://127.0.0.1:\(nginxPort)/static.bin")
            case .health: arguments.append("http://127.0.0.1:\(retractPort)/healthz")
            case .page: arguments.append("http://127.0.0.1:\(retractPort)/m/\(token)")
            case .open: arguments += ["-s", openScript, "http://127.0.0.1:\(retractPort)/m/\(token)/open"]
            }
            return arguments
        }
        var opens = 0
        for target in Target.allCases {
            RetractBench.progress("http: warm-up, \(target.rawValue)")
            let warm = try runWrk(wrk, arguments(target, seconds: 2), target: target)
            if target == .open { opens += warm.requests }
        }

        var runs: [Target: [WrkResult]] = [:]
        for round in 0..<rounds {
            for target in Target.allCases {
                RetractBench.progress(
                    "http: round \(round + 1) of \(rounds), \(target.rawValue), wrk -t\(threads) -c\(connections) -d\(duration)s")
                let result = try runWrk(wrk, arguments(target, seconds: duration), target: target)
                RetractBench.progress(
                    "http:   \(String(format: "%.0f", result.requestsPerSecond)) req/s, p99 "
                        + String(format: "%.2f ms", result.p99 * 1000))
                runs[target, default: []].append(result)
                if target == .open { opens += result.requests }
            }
        }

        Self.stop(server)
        let views = try viewsCounted(messageID: messageID, global: global)
        guard views >= opens else {
            throw BenchError("wrk counted \(opens) successful opens but the vault counted only \(views) views")
        }
        return Result(
            runs: runs, duration: duration, connections: connections, threads: threads, viewsCounted: views,
            opensCompleted: opens)
    }

    // MARK: - Steps

    /// The 2 KiB payload: printable text, the same for nginx's file and the message body.
    static func payload() -> [UInt8] {
        let line = Array("Retract HTTP benchmark payload: a 2 KiB message body, plain ASCII text.\n".utf8)
        return (0..<payloadBytes).map { line[$0 % line.count] }
    }

    /// Runs wrk once and refuses a run with errors.
    private func runWrk(_ wrk: String, _ arguments: [String], target: Target) throws(BenchError) -> WrkResult {
        let output = try runToEnd(wrk, arguments, name: "wrk", timeout: Double(duration) + 60)
        let result = try WrkResult(parsing: output)
        guard result.failedResponses == 0, result.socketErrors == 0, result.requests > 0 else {
            throw BenchError(
                "wrk on \(target.rawValue): \(result.failedResponses) non-2xx answers, \(result.socketErrors) socket "
                    + "errors, \(result.requests) requests; output:\n\(output)")
        }
        return result
    }

    /// The nginx configuration: Debian's stock `nginx.conf` settings (access log on,
    /// `sendfile`, `tcp_nopush`, default keep-alive), as this user, everything under
    /// `directory`. Retract writes an access entry per open too, so the log stays on.
    private func writeNginxSite(in directory: URL, port: Int) throws(BenchError) {
        let root = directory.appendingPathComponent("www")
        try makeDirectory(root)
        try makeDirectory(directory.appendingPathComponent("temp"))
        try write(Self.payload(), to: root.appendingPathComponent("static.bin").path)
        let path = directory.path
        // As root, nginx's workers would switch to `nobody`, who cannot read a 0700 folder.
        let user = geteuid() == 0 ? "user root;\n" : ""
        let configuration = """
            \(user)daemon off;
            worker_processes auto;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log \(path)/access.log;
                default_type application/octet-stream;
                sendfile on;
                tcp_nopush on;
                keepalive_timeout 65;
                client_body_temp_path \(path)/temp/body;
                proxy_temp_path \(path)/temp/proxy;
                fastcgi_temp_path \(path)/temp/fastcgi;
                server {
                    listen 127.0.0.1:\(port);
                    root \(root.path);
                    location / { }
                }
            }

            """
        try write(Array(configuration.utf8), to: directory.appendingPathComponent("nginx.conf").path)
    }

    /// A port nothing listens on right now (bound to port 0, read back, closed).
    static func freePort() throws(BenchError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed: \(POSIX.lastError)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw BenchError("cannot find a free port: \(POSIX.lastError)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until something accepts connections on `port`, or the process ends.
    private func waitForPort(_ port: Int, process: ChildProcess, name: String, log: URL) throws(BenchError) {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if Self.accepts(port: port) { return }
            if let exit = try process.poll() {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                throw BenchError("\(name) exited with \(exit.status) before listening: \(text)")
            }
            usleep(20_000)
        }
        throw BenchError("\(name) did not listen on 127.0.0.1:\(port) within 30 s")
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// The message's views, from `retract status ID --json` (the server stopped first).
    private func viewsCounted(messageID: String, global: [String]) throws(BenchError) -> Int {
        struct Status: Decodable {
            struct Recipient: Decodable { let views: Int }
            let recipients: [Recipient]
        }
        let text = try runToEnd(retract, ["status", messageID] + global + ["--json"], name: "status")
        guard let status = try? JSONDecoder().decode(Status.self, from: Data(text.utf8)) else {
            throw BenchError("retract status --json printed no views: \(text.prefix(200))")
        }
        return status.recipients.map(\.views).reduce(0, +)
    }

    static func messageID(fromSendJSON text: String) throws(BenchError) -> String {
        struct Output: Decodable { let id: String }
        guard let output = try? JSONDecoder().decode(Output.self, from: Data(text.utf8)) else {
            throw BenchError("retract send --json printed no id: \(text.prefix(200))")
        }
        return output.id
    }

    /// Stops a child with SIGTERM, then SIGKILL after 10 s.
    static func stop(_ process: ChildProcess) {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        if (try? process.wait(timeout: 10)) ?? nil == nil {
            process.signal(SIGKILL)
            _ = try? process.wait(timeout: 5)
        }
    }

    /// Runs `executable <arguments>` to its end; returns its standard output, or throws with
    /// its standard error when it fails.
    @discardableResult
    private func runToEnd(_ executable: String, _ arguments: [String], name: String, timeout: Double = 120)
        throws(BenchError) -> String
    {
        let out = directory.appendingPathComponent("\(name).out").path
        let err = directory.appendingPathComponent("\(name).err").path
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: MemoryBench.environment, standardOutput: out,
            standardError: err)
        let exit = try child.waitForExit(timeout: timeout)
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard exit.status == 0 else {
            let errors = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            throw BenchError(
                "\(name) exited with \(exit.status): \(errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }

    private func makeDirectory(_ url: URL) throws(BenchError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw BenchError("cannot create \(url.path): \(error.localizedDescription)")
        }
    }

    private func write(_ bytes: [UInt8], to path: String) throws(BenchError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw BenchError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
