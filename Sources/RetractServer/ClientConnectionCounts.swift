import Foundation

/// Open connections per client IP address, shared by every event loop of the server, and
/// the cap on them (`HTTPConnectionLimits.maxConnectionsPerClient`).
final class ClientConnectionCounts: @unchecked Sendable {
    let limit: Int
    private let lock = NSLock()
    private var open: [String: Int] = [:]

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection from `address`; false (and nothing counted) when the address
    /// already has `limit` open.
    func admit(_ address: String) -> Bool {
        lock.withLock {
            let count = open[address, default: 0]
            guard count < limit else { return false }
            open[address] = count + 1
            return true
        }
    }

    /// Forgets a connection `admit` counted.
    func release(_ address: String) {
        lock.withLock {
            let count = open[address, default: 0] - 1
            open[address] = count > 0 ? count : nil
        }
    }

    /// Connections counted for `address` (tests).
    func count(_ address: String) -> Int {
        lock.withLock { open[address, default: 0] }
    }
}
