import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The SMTP client of the gateway figures: a few connections side by side, each on a thread
/// of its own with blocking sockets, each sending its share of the mails one transaction
/// after another (MAIL, RCPT, DATA, content, the final dot; no PIPELINING), and timing each
/// final dot to its reply.
///
/// The same client feeds Postfix, Retract's SMTP server and the aiosmtpd sink, so a figure
/// compares the servers, not the clients. It is small on purpose: the time between two
/// commands is a read and a write, far below what any of the servers spends per mail.
struct SMTPLoadClient {
    /// One mail: its envelope and its content, already with CRLF line ends and no line
    /// that starts with a dot (the client sends it as it is, then `.` CRLF).
    struct Mail: Sendable {
        var mailFrom: String
        var recipients: [String]
        var content: Content
    }

    /// Where a mail's content comes from.
    enum Content: Sendable {
        case bytes([UInt8])
        /// A file, sent through a 1 MiB buffer (the 100 MiB message).
        case file(String)
    }

    /// What a run did.
    struct Result {
        /// `time.time()`-style wall clock when the first connection opened (the sink logs the same clock).
        var startedAt: Double
        /// Seconds from the first connection to the last reply.
        var seconds: Double
        /// Seconds from each final dot to its reply, unsorted.
        var latencies: [Double]
        /// Mails answered 250.
        var accepted: Int
        /// The first reply that was not 250 after a final dot, if any.
        var firstRefusal: String?

        /// The `fraction` quantile of the latencies (0.99: p99), seconds.
        func latency(_ fraction: Double) -> Double {
            let sorted = latencies.sorted()
            guard !sorted.isEmpty else { return .nan }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
        }
    }

    let port: Int
    let connections: Int

    /// Sends `mails` over `connections` connections (mail i on connection i mod n); throws
    /// when a connection fails (not when a server refuses a mail: that is counted).
    func run(_ mails: [Mail]) throws -> Result {
        let lanes = max(1, min(connections, mails.count))
        let tally = Tally()
        let group = DispatchGroup()
        let startedAt = Date().timeIntervalSince1970
        let clock = ContinuousClock()
        let start = clock.now
        for lane in 0..<lanes {
            let share = stride(from: lane, to: mails.count, by: lanes).map { mails[$0] }
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    tally.add(try Self.session(port: port, mails: share))
                } catch {
                    tally.fail(error)
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let seconds = Stopwatch.seconds(clock.now - start)
        return try tally.result(startedAt: startedAt, seconds: seconds)
    }

    /// What the connections' threads found, under a lock.
    private final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var latencies: [Double] = []
        private var accepted = 0
        private var refusal: String?
        private var failure: (any Error)?

        func add(_ outcome: (latencies: [Double], accepted: Int, refusal: String?)) {
            lock.withLock {
                latencies += outcome.latencies
                accepted += outcome.accepted
                if refusal == nil { refusal = outcome.refusal }
            }
        }

        func fail(_ error: any Error) { lock.withLock { if failure == nil { failure = error } } }

        func result(startedAt: Double, seconds: Double) throws -> Result {
            try lock.withLock {
                if let failure { throw failure }
                return Result(
                    startedAt: startedAt, seconds: seconds, latencies: latencies, accepted: accepted,
                    firstRefusal: refusal)
            }
        }
    }

    /// One connection's whole session.
    private static func session(port: Int, mails: [Mail]) throws -> (
        latencies: [Double], accepted: Int, refusal: String?
    ) {
        let connection = try Connection(port: port)
        defer { connection.close() }
        try connection.expect(220, after: nil)
        try connection.expect(250, after: "EHLO client.corp.test")
        var latencies: [Double] = []
        latencies.reserveCapacity(mails.count)
        var accepted = 0
        var refusal: String?
        let clock = ContinuousClock()
        for mail in mails {
            try connection.expect(250, after: "MAIL FROM:<\(mail.mailFrom)>")
            for recipient in mail.recipients { try connection.expect(250, after: "RCPT TO:<\(recipient)>") }
            try connection.expect(354, after: "DATA")
            switch mail.content {
            case .bytes(let bytes): try connection.send(bytes)
            case .file(let path): try connection.send(file: path)
            }
            let dot = clock.now
            try connection.send(Array(".\r\n".utf8))
            let reply = try connection.reply()
            latencies.append(Stopwatch.seconds(clock.now - dot))
            if reply.code == 250 {
                accepted += 1
            } else if refusal == nil {
                refusal = reply.text
            }
        }
        _ = try? connection.expect(221, after: "QUIT")
        return (latencies, accepted, refusal)
    }

    /// One blocking TCP connection to 127.0.0.1 with a line reader.
    final class Connection {
        private let fd: Int32
        private var buffer: [UInt8] = []
        private var readOffset = 0
        private let port: Int

        init(port: Int) throws {
            self.port = port
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw BenchError("socket() failed: \(POSIX.lastError)") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                let reason = POSIX.lastError
                Glibc.close(fd)
                throw BenchError("cannot connect to 127.0.0.1:\(port): \(reason)")
            }
        }

        func close() { Glibc.close(fd) }

        func send(_ bytes: [UInt8]) throws {
            do {
                try bytes.withUnsafeBytes { (raw) in
                    try POSIX.writeAll(fd, raw, path: "the connection to port \(port)")
                }
            }
        }

        func send(file path: String) throws {
            let input = try POSIX.openForReading(path)
            defer { Glibc.close(input) }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let got = try chunk.withUnsafeMutableBytes { (raw) in
                    try POSIX.readFull(input, into: raw, path: path)
                }
                if got == 0 { break }
                try chunk.withUnsafeBytes { (raw) in
                    try POSIX.writeAll(
                        fd, UnsafeRawBufferPointer(rebasing: raw[0..<got]), path: "the connection to port \(port)")
                }
            }
        }

        /// Sends `command` (when given) and reads the reply; throws unless its code is `code`.
        func expect(_ code: Int, after command: String?) throws {
            if let command { try send(Array((command + "\r\n").utf8)) }
            let reply = try reply()
            guard reply.code == code else {
                throw BenchError("127.0.0.1:\(port) answered \(command ?? "the connection") with \(reply.text)")
            }
        }

        /// Reads one (possibly multi-line) reply.
        func reply() throws -> (code: Int, text: String) {
            var lines: [String] = []
            while true {
                let line = try readLine()
                lines.append(line)
                let bytes = Array(line.utf8)
                if bytes.count < 4 || bytes[3] != UInt8(ascii: "-") {
                    return (Int(line.prefix(3)) ?? 0, lines.joined(separator: " / "))
                }
            }
        }

        private func readLine() throws -> String {
            while true {
                if let newline = buffer[readOffset...].firstIndex(of: 0x0A) {
                    var end = newline
                    if end > readOffset && buffer[end - 1] == 0x0D { end -= 1 }
                    let line = String(decoding: buffer[readOffset..<end], as: UTF8.self)
                    readOffset = newline + 1
                    if readOffset == buffer.count {
                        buffer.removeAll(keepingCapacity: true)
                        readOffset = 0
                    }
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    throw BenchError("127.0.0.1:\(port) closed the connection (\(got < 0 ? POSIX.lastError : "EOF"))")
                }
                buffer += chunk[0..<got]
            }
        }
    }
}
