import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP connection driven by the test: blocking socket calls, each run off Swift's
/// cooperative pool so the server's own tasks keep their threads.
public final class RawConnection: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    private let fd: Int32
    private var isClosed = false

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit { close() }

    /// Connects to 127.0.0.1:`port` from the loopback address `source`.
    public static func open(port: Int, from source: String = "127.0.0.1") async throws -> RawConnection {
        try await offPool {
            #if canImport(Glibc)
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
                let fd = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard fd >= 0 else { throw Failure("socket: \(errno)") }
            let connection = RawConnection(fd: fd)
            var local = Self.address(source, port: 0)
            var remote = Self.address("127.0.0.1", port: port)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw Failure("bind \(source): \(errno)") }
            let connected = withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw Failure("connect: \(errno)") }
            return connection
        }
    }

    private static func address(_ ip: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, ip, &address.sin_addr)
        return address
    }

    /// Sends all of `text`; throws when the server has closed the connection.
    public func send(_ text: String) async throws {
        let bytes = Array(text.utf8)
        try await Self.offPool {
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { Self.sendBytes(self.fd, $0) }
                guard count > 0 else { throw Failure("send: \(errno)") }
                sent += count
            }
        }
    }

    private static func sendBytes(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        #if canImport(Glibc)
            Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        #else
            Darwin.send(fd, bytes.baseAddress, bytes.count, 0)
        #endif
    }

    /// What one wait for input found.
    private enum Input {
        case bytes([UInt8])
        case closed
        case nothing
    }

    /// Waits up to `seconds` for input (blocking; call it off the pool).
    private func wait(_ seconds: Double) -> Input {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(seconds * 1000)) > 0 else { return .nothing }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? .bytes(Array(buffer[..<count])) : .closed
    }

    /// Reads until the text received contains `marker`; throws when the server closes first
    /// or `seconds` pass without it.
    public func receive(until marker: String, within seconds: Double) async throws -> String {
        try await Self.offPool {
            var received: [UInt8] = []
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                switch self.wait(0.1) {
                case .bytes(let bytes):
                    received += bytes
                    let text = String(decoding: received, as: UTF8.self)
                    if text.contains(marker) { return text }
                case .closed: throw Failure("closed by the server after \(String(decoding: received, as: UTF8.self).debugDescription)")
                case .nothing: continue
                }
            }
            throw Failure("no \(marker.debugDescription) within \(seconds) s")
        }
    }

    /// Whether the server closes the connection within `seconds` (whatever it sends first).
    public func closedByServer(within seconds: Double) async throws -> Bool {
        try await Self.offPool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if case .closed = self.wait(0.1) { return true }
            }
            return false
        }
    }

    /// Whether nothing at all (no byte, no close) arrives for `seconds`.
    public func silent(for seconds: Double) async throws -> Bool {
        try await Self.offPool {
            if case .nothing = self.wait(seconds) { return true }
            return false
        }
    }

    /// Sends `text` a byte at a time, `pause` seconds apart, until the server closes the
    /// connection: how many bytes went out before it did (all of them if it never did), and
    /// what the server sent meanwhile.
    public func dribble(_ text: String, pause: Double) async throws -> (closedAfter: Int, received: String) {
        try await Self.offPool {
            var received: [UInt8] = []
            let bytes = Array(text.utf8)
            for index in bytes.indices {
                let sent = bytes[index...index].withUnsafeBytes { Self.sendBytes(self.fd, $0) }
                guard sent == 1 else { return (index, String(decoding: received, as: UTF8.self)) }
                switch self.wait(pause) {
                case .bytes(let more): received += more
                case .closed: return (index + 1, String(decoding: received, as: UTF8.self))
                case .nothing: break
                }
            }
            // Every byte went out: give the server the chance to answer.
            if case .bytes(let more) = self.wait(5) { received += more }
            return (bytes.count, String(decoding: received, as: UTF8.self))
        }
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        #if canImport(Glibc)
            _ = Glibc.close(fd)
        #else
            _ = Darwin.close(fd)
        #endif
    }

    /// Runs blocking work on a thread of its own.
    public static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}
