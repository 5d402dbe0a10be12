import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private Postfix for the gateway figures (Debian's `postfix`, run as root with
/// `postfix -c DIR start` from a configuration directory of its own, its queue under the
/// benchmark's temporary folder), listening on a free loopback port and relaying every
/// domain to `relayPort`.
///
/// With `contentFilter` it is FILTER_README's after-queue content filter in front of
/// Retract, as docs/gateway.md sets it up and the end-to-end tests run it
/// (`Tests/RetractTestSupport/PostfixInstance.swift`, which the benchmark cannot import): mail
/// goes to `retract:[127.0.0.1]:FILTER` (at most 10 deliveries at once) and comes back on the
/// return `smtpd` at `returnPort` without being filtered again.
final class BenchPostfix {
    /// The port that takes mail from clients.
    let port: Int
    /// The return `smtpd` of the content filter.
    let returnPort: Int
    /// The instance's folder: `etc/`, `queue/`, `data/`, `maillog`.
    let directory: URL

    /// Writes the configuration into a new folder in `parent` (inside the benchmark's folder
    /// `root`) and starts Postfix; throws with its log when it does not start.
    init(relayPort: Int, contentFilter: Int? = nil, in parent: URL, root: URL) throws(BenchError) {
        directory = parent.appendingPathComponent("postfix-\(UUID().uuidString.prefix(8))")
        port = try BenchNetwork.freePort()
        returnPort = try BenchNetwork.freePort()
        do {
            for sub in ["etc", "queue", "data"] {
                try FileManager.default.createDirectory(
                    at: directory.appendingPathComponent(sub), withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o755])
            }
        } catch {
            throw BenchError("cannot create the Postfix folders in \(directory.path): \(error.localizedDescription)")
        }
        // Postfix's daemons run as `postfix`: every folder on the way must be traversable
        // (the benchmark's own, from `root` down; `root`'s parents are left as they are).
        var folder = directory
        while folder.path.hasPrefix(root.path) {
            chmod(folder.path, 0o755)
            folder = folder.deletingLastPathComponent()
        }
        try Self.run("/bin/chown", ["postfix", directory.appendingPathComponent("data").path])
        let etc = directory.appendingPathComponent("etc")
        var main = """
            queue_directory = \(directory.appendingPathComponent("queue").path)
            data_directory = \(directory.appendingPathComponent("data").path)
            maillog_file = \(directory.appendingPathComponent("maillog").path)
            maillog_file_prefixes = \(directory.path)
            compatibility_level = 3.6
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            myhostname = mta.corp.test
            mydomain = corp.test
            myorigin = corp.test
            mydestination =
            local_recipient_maps =
            mynetworks = 127.0.0.0/8
            relayhost = [127.0.0.1]:\(relayPort)
            smtpd_relay_restrictions = permit_mynetworks, reject
            smtp_tls_security_level = none
            smtpd_tls_security_level = none
            smtp_dns_support_level = disabled
            disable_dns_lookups = yes
            minimal_backoff_time = 5s
            maximal_backoff_time = 10s
            queue_run_delay = 5s
            alias_maps =
            alias_database =

            """
        if let contentFilter { main += "content_filter = retract:[127.0.0.1]:\(contentFilter)\n" }
        var master = """
            127.0.0.1:\(port) inet n - n - - smtpd
            pickup    unix  n       -       n       60      1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            rewrite   unix  -       -       n       -       -       trivial-rewrite
            bounce    unix  -       -       n       -       0       bounce
            defer     unix  -       -       n       -       0       bounce
            trace     unix  -       -       n       -       0       bounce
            verify    unix  -       -       n       -       1       verify
            flush     unix  n       -       n       1000?   0       flush
            proxymap  unix  -       -       n       -       -       proxymap
            smtp      unix  -       -       n       -       -       smtp
            relay     unix  -       -       n       -       -       smtp
            showq     unix  n       -       n       -       -       showq
            error     unix  -       -       n       -       -       error
            retry     unix  -       -       n       -       -       error
            discard   unix  -       -       n       -       -       discard
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd

            """
        if contentFilter != nil {
            master += """
                retract   unix  -       -       n       -       10      smtp
                  -o smtp_send_xforward_command=yes
                  -o disable_mime_output_conversion=yes
                127.0.0.1:\(returnPort) inet n - n - 10 smtpd
                  -o content_filter=
                  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
                  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
                  -o mynetworks=127.0.0.0/8

                """
        }
        do {
            try main.write(to: etc.appendingPathComponent("main.cf"), atomically: true, encoding: .utf8)
            try master.write(to: etc.appendingPathComponent("master.cf"), atomically: true, encoding: .utf8)
        } catch {
            throw BenchError("cannot write the Postfix configuration: \(error.localizedDescription)")
        }
        let started = try Self.run("/usr/sbin/postfix", ["-c", etc.path, "start"], check: false)
        guard started == 0, BenchNetwork.waitForPort(port, seconds: 20) else {
            throw BenchError("postfix did not start (exit \(started)): \(log.suffix(800))")
        }
    }

    /// Stops the instance; the caller's folder goes with the benchmark's.
    func stop() {
        _ = try? Self.run("/usr/sbin/postfix", ["-c", directory.appendingPathComponent("etc").path, "stop"], check: false)
    }

    /// The log Postfix wrote so far.
    var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("maillog"), encoding: .utf8)) ?? ""
    }

    /// Whether `postfix` can run here: installed, and this process is root (it starts the
    /// master as root, which drops to `postfix`).
    static var isUsable: Bool { access("/usr/sbin/postfix", X_OK) == 0 && getuid() == 0 }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], check: Bool = true) throws(BenchError) -> Int32 {
        let child = try ChildProcess(
            executable: tool, arguments: arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
            standardOutput: "/dev/null", standardError: "/dev/null")
        let exit = try child.waitForExit(timeout: 60)
        if check && exit.status != 0 {
            throw BenchError("\(tool) \(arguments.joined(separator: " ")) exited \(exit.status)")
        }
        return exit.status
    }
}

/// Loopback ports for the gateway figures.
enum BenchNetwork {
    /// A TCP port nobody listens on right now.
    static func freePort() throws(BenchError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed: \(POSIX.lastError)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw BenchError("bind() failed: \(POSIX.lastError)") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port` within `seconds`.
    static func waitForPort(_ port: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if connected == 0 { return true }
            usleep(50_000)
        }
        return false
    }
}
