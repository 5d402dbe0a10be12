import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private Postfix (Debian's `postfix`, run as root from a configuration directory of the
/// test's own), listening on a free loopback port and relaying everything to `relayPort`.
///
/// With `contentFilter`, it is the organisation's MTA of FILTER_README's after-queue content
/// filter: mail it receives goes to the filter (Retract's SMTP server) and comes back on a
/// second `smtpd`, `returnPort`, which relays it on without filtering it again. Call
/// `stop()` in a `defer`. See MACHINE-NOTES for why each setting is there.
public final class PostfixInstance: @unchecked Sendable {
    /// The port that takes mail from clients (the MUA side).
    public let port: Int
    /// The return `smtpd` of the content filter (`RETRACT_SMTP_URL=smtp://127.0.0.1:<port>`).
    public let returnPort: Int
    /// The instance's folder: `etc/`, `queue/`, `data/`, `maillog`.
    public let directory: URL

    /// Writes the configuration and starts Postfix; throws with its log when it does not start.
    public init(relayPort: Int, contentFilter: Int? = nil, in parent: URL) throws {
        directory = parent.appendingPathComponent("postfix-\(UUID().uuidString.prefix(8))")
        port = try Self.freePort()
        returnPort = try Self.freePort()
        let fm = FileManager.default
        for sub in ["etc", "queue", "data"] {
            try fm.createDirectory(
                at: directory.appendingPathComponent(sub), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        }
        // Postfix's daemons run as `postfix`: every folder on the way must be traversable.
        var folder = directory
        while folder.path != "/" && folder.path.hasPrefix(FileManager.default.temporaryDirectory.path) {
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
        try main.write(to: etc.appendingPathComponent("main.cf"), atomically: true, encoding: .utf8)
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
        try master.write(to: etc.appendingPathComponent("master.cf"), atomically: true, encoding: .utf8)
        let started = try Self.run("/usr/sbin/postfix", ["-c", etc.path, "start"], check: false)
        guard started == 0, try Self.waitForPort(port) else {
            let log = (try? String(contentsOf: directory.appendingPathComponent("maillog"), encoding: .utf8)) ?? ""
            throw PostfixError("postfix did not start (exit \(started)): \(log.suffix(800))")
        }
    }

    /// Stops the instance (whatever happened) and removes nothing: the caller's folder goes.
    public func stop() {
        _ = try? Self.run("/usr/sbin/postfix", ["-c", directory.appendingPathComponent("etc").path, "stop"], check: false)
    }

    /// Asks the queue manager to retry everything now (`postqueue -f`).
    public func flush() {
        _ = try? Self.run("/usr/sbin/postqueue", ["-c", directory.appendingPathComponent("etc").path, "-f"], check: false)
    }

    /// The log Postfix wrote so far.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("maillog"), encoding: .utf8)) ?? ""
    }

    /// A TCP port nobody listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostfixError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw PostfixError("bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port` within 20 s.
    public static func waitForPortOpen(_ port: Int) throws -> Bool { try waitForPort(port) }

    /// Whether something accepts connections on 127.0.0.1:`port` within 20 s.
    static func waitForPort(_ port: Int) throws -> Bool {
        let deadline = Date().addingTimeInterval(20)
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

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], check: Bool = true) throws -> Int32 {
        let status = try Process.exitStatus(of: tool, arguments)
        if check && status != 0 {
            throw PostfixError("\(tool) \(arguments.joined(separator: " ")) exited \(status)")
        }
        return status
    }
}

/// Postfix could not be set up or started.
public struct PostfixError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
