import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private PostgreSQL cluster (Debian's `postgresql` 15) for one test: `initdb` into a
/// temporary directory, `pg_ctl start` on a free loopback port, a `retract` role and
/// database with a password (SCRAM-SHA-256), and a `postgres://` URL for them.
///
/// PostgreSQL refuses to run as root, so as root every server command runs as the
/// unprivileged `postgres` user (`runuser`), which is created when missing; as any other
/// user the commands run as that user. With `tls`, the server has a throwaway CA's
/// certificate (made with openssl) for `tlsSubjectAltName`, `ssl = on`, and `pg_hba.conf`
/// accepts TCP only over TLS, so `sslmode=verify-full` can be tested for real.
///
/// Call `stop()` whatever happens (a `defer`), or use `withInstance(tls:_:)`, which does.
/// `stop()` is `pg_ctl -m fast stop` and removes the directory.
public final class PostgresInstance: @unchecked Sendable {
    /// The Debian server binaries (`initdb`, `pg_ctl`, `psql`), not all on PATH.
    public static let binaries = "/usr/lib/postgresql/15/bin"
    /// The unprivileged user the server runs as when the tests run as root.
    public static let serverUser = "postgres"

    /// The TCP port the server listens on (127.0.0.1 only).
    public let port: Int
    /// The instance's folder: `data/` (the cluster), `log`, the Unix socket, the certificates.
    public let directory: URL
    /// The role Retract connects as (it owns `database`).
    public let role = "retract"
    /// The database made for Retract.
    public let database = "retract"
    /// The role's password (random per instance; a test secret, never a real one).
    public let password: String
    /// The CA, server certificate and key of a TLS instance; nil without TLS.
    public let certificates: SMTPTestCertificates?

    private let superuserPassword: String
    private let lock = NSLock()
    private var stopped = false

    /// Makes and starts a cluster in a new folder under `parent`, with Retract's role and
    /// database; throws with the server's log when a step fails (and stops what it started).
    ///
    /// `tlsSubjectAltName` names the hosts the server certificate is valid for; the default,
    /// `DNS:localhost` only, lets a test connect by `localhost` (valid) and by `127.0.0.1`
    /// (a host name the certificate does not cover).
    public init(
        tls: Bool = false, tlsSubjectAltName: String = "DNS:localhost",
        in parent: URL = FileManager.default.temporaryDirectory
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: "\(Self.binaries)/initdb") else {
            throw PostgresInstanceError(
                "\(Self.binaries)/initdb is missing: install Debian's postgresql (make test-deps does)")
        }
        directory = parent.appendingPathComponent("retract-pg-\(UUID().uuidString.prefix(8))")
        port = try PostfixInstance.freePort()
        password = Self.randomSecret()
        superuserPassword = Self.randomSecret()
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // The server runs as `postgres`: every folder on the way to ours must be traversable.
        var folder = directory.deletingLastPathComponent()
        while folder.path != "/" && folder.path.hasPrefix(fm.temporaryDirectory.path) {
            chmod(folder.path, 0o755)
            folder = folder.deletingLastPathComponent()
        }
        if tls {
            let certificates = try SMTPTestCertificates(in: directory, subjectAltName: tlsSubjectAltName)
            self.certificates = certificates
            // The server refuses a key readable by others, or not owned by its user (or root).
            chmod(certificates.keyFile, 0o600)
        } else {
            certificates = nil
        }
        let passwordFile = directory.appendingPathComponent("superuser-password")
        try superuserPassword.write(to: passwordFile, atomically: false, encoding: .utf8)
        chmod(passwordFile.path, 0o600)
        if Self.runsAsRoot {
            try Self.ensureServerUser()
            try Self.run("/bin/chown", ["-R", Self.serverUser, directory.path])
        }

        let data = directory.appendingPathComponent("data").path
        try Self.runServerTool(
            "initdb",
            [
                "-D", data, "-U", "postgres", "--pwfile", passwordFile.path, "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync",
            ], in: directory)
        try? fm.removeItem(at: passwordFile)
        if tls {
            // Only TLS over TCP: a client that does not ask for it is refused.
            try """
            local all all scram-sha-256
            hostssl all all 127.0.0.1/32 scram-sha-256

            """.write(toFile: "\(data)/pg_hba.conf", atomically: false, encoding: .utf8)
        }
        // A throwaway cluster: no fsync (the tests never crash the server, only clients).
        var options = "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off"
        if let certificates {
            options += " -c ssl=on -c ssl_cert_file=\(certificates.certificateFile)"
            options += " -c ssl_key_file=\(certificates.keyFile)"
        }
        let log = directory.appendingPathComponent("log").path
        do {
            try Self.runServerTool(
                "pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"], in: directory,
                closingInheritedDescriptors: true)
        } catch {
            let log = self.log
            stop()
            throw PostgresInstanceError("\(error) — server log: \(log.suffix(800))")
        }
        do {
            // Random hex passwords need no quoting.
            try psql(
                """
                CREATE ROLE \(role) LOGIN PASSWORD '\(password)';
                CREATE DATABASE \(database) OWNER \(role);
                """)
        } catch {
            stop()
            throw error
        }
    }

    /// Runs `body` with a started instance and stops it afterwards, also when `body` throws.
    ///
    /// Starting and stopping block for a second or two (initdb, pg_ctl -w); they run on a
    /// thread of their own, not on one of the few threads Swift concurrency shares among all
    /// the tests running at the same time.
    public static func withInstance<T>(
        tls: Bool = false, tlsSubjectAltName: String = "DNS:localhost",
        _ body: (PostgresInstance) async throws -> T
    ) async throws -> T {
        let instance = try await offThePool { try PostgresInstance(tls: tls, tlsSubjectAltName: tlsSubjectAltName) }
        do {
            let result = try await body(instance)
            await offThePool { instance.stop() }
            return result
        } catch {
            await offThePool { instance.stop() }
            throw error
        }
    }

    private static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func offThePool(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                work()
                continuation.resume()
            }
        }
    }

    /// The URL Retract is given: `sslmode=disable` on 127.0.0.1, or for a TLS instance
    /// `sslmode=verify-full` on `localhost` with the test CA as `sslrootcert`.
    public var url: String { url(database: database) }

    /// The URL of `database` on this instance (as Retract's role), in the same form as `url`.
    public func url(database: String, host: String? = nil, sslmode: String? = nil, rootCertificate: String? = nil)
        -> String
    {
        let base =
            "postgres://\(role):\(password)@\(host ?? (certificates == nil ? "127.0.0.1" : "localhost")):\(port)/\(database)"
        guard let certificates else { return base + "?sslmode=\(sslmode ?? "disable")" }
        let mode = sslmode ?? "verify-full"
        let root = rootCertificate ?? certificates.caFile
        return base + "?sslmode=\(mode)" + (mode == "verify-full" ? "&sslrootcert=\(root)" : "")
    }

    /// A further empty database owned by Retract's role (for tests that want several).
    public func createDatabase(_ name: String) throws {
        try psql("CREATE DATABASE \(name) OWNER \(role);")
    }

    /// Runs SQL as the superuser over the instance's Unix socket; returns psql's unaligned,
    /// tuples-only output (`|` between columns, one row a line). Throws with psql's message.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.psql(
            sql, arguments: ["-h", directory.path, "-p", String(port), "-U", "postgres", "-d", database],
            password: superuserPassword)
    }

    /// Runs SQL as a client of `url` (a libpq URI: TCP, password, `sslmode`, `sslrootcert`),
    /// the way any other PostgreSQL client would connect; output as `psql(_:database:)`.
    @discardableResult
    public func psql(_ sql: String, connectingTo url: String) throws -> String {
        try Self.psql(sql, arguments: ["-d", url], password: nil)
    }

    private static func psql(_ sql: String, arguments: [String], password: String?) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        for name in environment.keys where name.hasPrefix("PG") { environment[name] = nil }
        if let password { environment["PGPASSWORD"] = password }
        let (status, text) = try execute(
            "\(binaries)/psql", ["-X", "-w", "-q", "-At", "-v", "ON_ERROR_STOP=1"] + arguments,
            environment: environment, input: sql)
        guard status == 0 else { throw PostgresInstanceError("psql failed (exit \(status)): \(text.suffix(600))") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What the server logged so far.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
    }

    /// Stops the server (`pg_ctl -m fast stop`, whatever state it is in) and removes the
    /// folder; calling it again does nothing.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        let data = directory.appendingPathComponent("data").path
        if FileManager.default.fileExists(atPath: "\(data)/postmaster.pid") {
            _ = try? Self.runServerTool("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"], in: directory)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Processes

    private static var runsAsRoot: Bool { getuid() == 0 }

    /// Runs one of the server binaries as the server user (via runuser when root).
    ///
    /// `closingInheritedDescriptors` is for `pg_ctl start`, whose server outlives it: Foundation
    /// learns that a child exited when the child's end of a socket pair it inherits closes,
    /// and the server (which pg_ctl does not detach from its descriptors) would keep that end,
    /// and with it any pipe a concurrent test had open, until it stops. So a bash in front
    /// closes every descriptor above 2 before it becomes pg_ctl.
    private static func runServerTool(
        _ tool: String, _ arguments: [String], in directory: URL, closingInheritedDescriptors: Bool = false
    ) throws {
        var command = ["\(binaries)/\(tool)"] + arguments
        if runsAsRoot { command = ["/usr/sbin/runuser", "-u", serverUser, "--"] + command }
        if closingInheritedDescriptors {
            let closeAll =
                #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@""#
            command = ["/bin/bash", "-c", closeAll, tool] + command
        }
        try run(command[0], Array(command.dropFirst()), in: directory)
    }

    /// Creates the unprivileged `postgres` system user when it does not exist (Debian's
    /// package creates it; a bare container may not have it).
    private static func ensureServerUser() throws {
        guard getpwnam(serverUser) == nil else { return }
        try run(
            "/usr/sbin/useradd",
            ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", serverUser])
    }

    private static func run(_ tool: String, _ arguments: [String], in directory: URL? = nil) throws {
        let (status, text) = try execute(tool, arguments, in: directory)
        guard status == 0 else {
            let name =
                arguments.first { $0.hasPrefix(binaries) }.map { URL(fileURLWithPath: $0).lastPathComponent } ?? tool
            throw PostgresInstanceError("\(name) exited \(status): \(text.suffix(600))")
        }
    }

    /// Runs `tool` to its end with stdin from `input` and stdout and stderr into one file, then
    /// returns its status and output. Files, not pipes: a pipe's end inherited by a process a
    /// concurrent test starts (a server that outlives its launcher) would hold up reading to
    /// end-of-file here until that server stops.
    private static func execute(
        _ tool: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
        in directory: URL? = nil
    ) throws -> (status: Int32, output: String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retract-pg-io-\(UUID().uuidString.prefix(8))")
        let inputFile = scratch.appendingPathExtension("in")
        let outputFile = scratch.appendingPathExtension("out")
        try Data((input ?? "").utf8).write(to: inputFile)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: inputFile)
            try? FileManager.default.removeItem(at: outputFile)
        }
        let inputHandle = try FileHandle(forReadingFrom: inputFile)
        let outputHandle = try FileHandle(forWritingTo: outputFile)
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = inputHandle
        process.standardOutput = outputHandle
        process.standardError = outputHandle
        try process.runSafely()
        process.waitUntilExit()
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text)
    }

    private static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// The test cluster could not be made, started or set up; says which step and why.
public struct PostgresInstanceError: Error, CustomStringConvertible {
    /// What went wrong, with the tool's own message.
    public let description: String
    init(_ description: String) { self.description = description }
}
