import Foundation
import RetractTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `retract serve` with `--metrics-listen`, scraped by a real Prometheus (Debian's
/// `prometheus`, its own configuration and data in the test's temp dir, on a free loopback
/// port, every second) and read back through Prometheus' HTTP API, the way an operator's
/// dashboard and alerts will read it.
@Suite("End to end: Prometheus scrapes retract serve's /metrics", .serialized)
struct MetricsEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
        try #require(cli.run(["init"]).status == 0)
    }

    /// Starts `retract serve --port 0 --metrics-listen 127.0.0.1:0`; the public and the
    /// metrics ports it prints.
    func startServer() throws -> (process: Process, port: Int, metricsPort: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RetractBinary.path)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--metrics-listen", "127.0.0.1:0"]
        process.currentDirectoryURL = root
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RETRACT_") }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.runSafely()
        var buffer = ""
        func port(after prefix: String) -> Int? {
            guard let range = buffer.range(of: prefix + #"127\.0\.0\.1:(\d+)"#, options: .regularExpression) else {
                return nil
            }
            return Int(buffer[range].split(separator: ":").last ?? "")
        }
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            if let publicPort = port(after: "listening on http://"), let metrics = port(after: "metrics on http://") {
                return (process, publicPort, metrics)
            }
        }
        process.terminate()
        process.waitUntilExit()
        throw EndToEndError("retract serve did not start both listeners: \(buffer)")
    }

    /// A loopback port nothing listens on right now (the kernel's pick, released at once).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EndToEndError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw EndToEndError("bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw EndToEndError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts Debian's Prometheus scraping `target` every second, with its configuration,
    /// data and log under `directory`; the port of its HTTP API.
    static func startPrometheus(scraping target: String, in directory: URL) throws -> (Process, Int) {
        let port = try freePort()
        let configuration = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: retract
                static_configs:
                  - targets: ["\(target)"]
            """
        let configFile = directory.appendingPathComponent("prometheus.yml")
        try Data(configuration.utf8).write(to: configFile)
        let log = directory.appendingPathComponent("prometheus.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = [
            "--config.file=\(configFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        process.currentDirectoryURL = directory
        let sink = try FileHandle(forWritingTo: log)
        process.standardOutput = sink
        process.standardError = sink
        try process.runSafely()
        return (process, port)
    }

    /// The value of the first sample an instant query returns, nil while it returns none
    /// (or Prometheus does not answer yet).
    static func query(_ promQL: String, port: Int) async -> Double? {
        var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: promQL)]
        guard let url = components.url?.absoluteString, let (status, data, _) = try? await HTTP.get(url),
            status == 200,
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let result = (json["data"] as? [String: Any])?["result"] as? [[String: Any]],
            let value = result.first?["value"] as? [Any], value.count == 2, let text = value[1] as? String
        else { return nil }
        return Double(text)
    }

    @Test(
        "a real Prometheus scrapes the metrics address each second and answers the open counter through /api/v1/query; the public port has no /metrics"
    )
    func prometheusScrapes() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (server, port, metricsPort) = try startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        // A message sealed by the CLI, opened over HTTP by the running serve.
        let send = try cli.run([
            "send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "Numbers", "--body", "Hi",
            "--public-url", base, "--show-links", "--json",
        ])
        try #require(send.status == 0, "\(send.stderr)")
        let receipt = try #require(try JSONSerialization.jsonObject(with: Data(send.stdout.utf8)) as? [String: Any])
        let link = try #require((receipt["recipients"] as? [[String: Any]])?.first?["link"] as? String)
        let parts = link.split(separator: "#").map(String.init)
        let (opened, _, _) = try await HTTP.postJSON(parts[0] + "/open", ["key": parts[1]])
        #expect(opened == 200)

        let (publicMetrics, _, _) = try await HTTP.get(base + "/metrics")
        #expect(publicMetrics == 404)
        let (status, body, headers) = try await HTTP.get("http://127.0.0.1:\(metricsPort)/metrics")
        #expect(status == 200)
        #expect(headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(headers["x-content-type-options"] == "nosniff")
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#"retract_opens_total{outcome="opened"} 1"#))
        #expect(!text.contains(parts[1]) && !text.contains("bob@partner.test"))

        let directory = root.appendingPathComponent("prometheus")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (prometheus, prometheusPort) = try Self.startPrometheus(
            scraping: "127.0.0.1:\(metricsPort)", in: directory)
        defer {
            prometheus.terminate()
            prometheus.waitUntilExit()
        }
        // Polled with a generous deadline: Prometheus starts, then scrapes once a second.
        var answered: Double?
        let deadline = Date().addingTimeInterval(120)
        while answered == nil, Date() < deadline, prometheus.isRunning {
            answered = await Self.query(
                #"retract_opens_total{job="retract",outcome="opened"}"#, port: prometheusPort)
            if answered == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
        #expect(answered == 1, "Prometheus did not answer the counter; its log: \(log.suffix(2000))")
        #expect(await Self.query(#"up{job="retract"}"#, port: prometheusPort) == 1)
    }

    @Test(
        "a metrics address that is in use or does not parse stops serve with one line naming the setting",
        arguments: [
            (["--metrics-listen", "BUSY"], [:], "--metrics-listen"),
            (["--metrics-listen", "127.0.0.1"], [:], "--metrics-listen"),
            ([], ["RETRACT_METRICS_LISTEN": "127.0.0.1:http"], "RETRACT_METRICS_LISTEN"),
        ])
    func badAddressStopsServe(_ extra: [String], _ environment: [String: String], _ named: String) throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Something already listens on the busy address: another serve's public port.
        let (other, otherPort) = try cli.startServer()
        defer {
            other.terminate()
            other.waitUntilExit()
        }
        var cli = self.cli
        cli.environment.merge(environment) { _, new in new }
        let arguments = extra.map { $0 == "BUSY" ? "127.0.0.1:\(otherPort)" : $0 }
        let result = try cli.run(["serve", "--host", "127.0.0.1", "--port", "0"] + arguments)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(named), "\(result.stderr)")
        if extra.contains("BUSY") { #expect(result.stderr.contains("in use"), "\(result.stderr)") }
    }
}
