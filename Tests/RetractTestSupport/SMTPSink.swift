import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real SMTP server for the tests: `Tests/Support/smtp_sink.py` (aiosmtpd) run by Debian's
/// `/usr/bin/python3`, listening on a free loopback port, writing what it receives into
/// `maildir`. Call `stop()` in a `defer`.
public final class SMTPSink: @unchecked Sendable {
    /// The Python that has Debian's python3-aiosmtpd (the pyenv python3 on PATH does not).
    public static let python = "/usr/bin/python3"
    /// `Tests/Support/smtp_sink.py`, found from this file's path.
    public static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Support/smtp_sink.py").path

    /// One received mail: the envelope from the JSON sidecar and the raw bytes.
    public struct Received: Sendable {
        /// The envelope sender.
        public let mailFrom: String
        /// The envelope recipients.
        public let recipients: [String]
        /// The message bytes.
        public let data: [UInt8]
    }

    /// The port the server listens on (127.0.0.1).
    public let port: Int
    /// Where received mail is written.
    public let maildir: URL
    private let process: Process
    private let output: URL

    /// Starts the sink with the given options (see smtp_sink.py) plus `--maildir`, and waits
    /// until it prints its port (at most 10 s).
    public init(_ arguments: [String] = [], port: Int? = nil, in directory: URL) async throws {
        self.maildir = directory.appendingPathComponent("maildir-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: self.maildir, withIntermediateDirectories: true)
        self.output = directory.appendingPathComponent("sink-\(UUID().uuidString.prefix(8)).out")
        _ = FileManager.default.createFile(atPath: self.output.path, contents: nil)
        let errors = directory.appendingPathComponent("sink-\(UUID().uuidString.prefix(8)).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments =
            [Self.script, "--maildir", self.maildir.path] + arguments + (port.map { ["--port", String($0)] } ?? [])
        process.standardOutput = try FileHandle(forWritingTo: self.output)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw SinkError("\(Self.python) is missing; install Debian's python3 and python3-aiosmtpd")
        }
        try process.runSafely()
        self.process = process

        // Python and aiosmtpd take well under a second to start on a quiet machine, but many
        // seconds when the suite's parallel tests load both cores; only a sink that never
        // starts should fail a test.
        let deadline = Date().addingTimeInterval(45)
        var port: Int?
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOf: self.output, encoding: .utf8)) ?? ""
            if text.hasSuffix("\n"), let number = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                port = number
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let port else {
            let reason = process.isRunning ? "did not print its port within 45 s" : "exited"
            process.terminate()
            process.waitUntilExit()
            let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw SinkError(
                "smtp_sink.py \(reason) (is python3-aiosmtpd installed for \(Self.python)?): \(log.suffix(600))")
        }
        self.port = port
    }

    /// Stops the server with SIGTERM, or SIGKILL when it has not exited 5 s later.
    public func stop() {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while self.process.isRunning && Date() < deadline { usleep(10_000) }
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    deinit {
        self.stop()
    }

    /// Every mail received so far, in arrival order.
    public func received() throws -> [Received] {
        let names = try FileManager.default.contentsOfDirectory(atPath: self.maildir.path)
            .filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { name in
            let base = self.maildir.appendingPathComponent(String(name.dropLast(4)))
            let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathExtension("json")))
            guard let fields = envelope as? [String: Any], let mailFrom = fields["mail_from"] as? String,
                let recipients = fields["rcpt_tos"] as? [String]
            else { throw SinkError("\(name): the envelope sidecar is not {mail_from, rcpt_tos}") }
            return Received(
                mailFrom: mailFrom,
                recipients: recipients,
                data: Array(try Data(contentsOf: base.appendingPathExtension("eml"))))
        }
    }

    /// The EHLO/HELO lines the server saw, one per greeting.
    public func greetings() throws -> [String] {
        let log = self.maildir.appendingPathComponent("ehlo.log")
        guard FileManager.default.fileExists(atPath: log.path) else { return [] }
        return try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The QUIT commands the server saw, one line per session the client ended with QUIT.
    public func quits() throws -> [String] {
        let log = self.maildir.appendingPathComponent("quit.log")
        guard FileManager.default.fileExists(atPath: log.path) else { return [] }
        return try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The sink could not start or be read.
    public struct SinkError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
