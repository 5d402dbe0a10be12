import Foundation

#if canImport(Glibc)
    import Glibc
#endif
import Mail
import Synchronization
import Vault

import RetractCore

/// A clock the tests move by hand.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    public func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A fresh data directory, keys directory and service with the file outbox, in a temporary
/// folder that is removed when the bench goes away.
public final class TestBench: @unchecked Sendable {
    public let root: URL
    public let configuration: RetractConfiguration
    public let service: RetractService
    public let clock: TestClock

    /// `configure` adjusts the configuration (gateway settings, limits) before the service starts.
    public init(
        clock: TestClock = TestClock(), defaultSendDelay: TimeInterval = 0,
        configure: (inout RetractConfiguration) -> Void = { _ in }
    ) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var configuration = RetractConfiguration(
            dataDirectory: root.appendingPathComponent("data"), keysDirectory: root.appendingPathComponent("keys"),
            publicURL: "http://127.0.0.1:9", serviceAddress: "retract@retract.test")
        configuration.defaultSendDelay = defaultSendDelay
        configure(&configuration)
        self.configuration = configuration
        self.clock = clock
        try RetractService.initialize(configuration)
        let keys = try KeyDirectory(url: configuration.keysDirectory).load()
        service = RetractService(
            configuration: configuration, vault: try VaultDatabase.open(directory: configuration.dataDirectory),
            keys: keys, templates: try MailTemplates(),
            transport: FileOutboxTransport(directory: configuration.outboxDirectory), now: { clock.now })
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    /// The `.eml` files delivered so far, parsed.
    public func deliveredMail() throws -> [ParsedMail] {
        let directory = configuration.outboxDirectory
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            .filter { $0.hasSuffix(".eml") }
            .map { try ParsedMail(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    /// Writes a file of `size` pseudo-random bytes and returns its URL.
    public func makeFile(named name: String, size: Int, seed: UInt64 = 42) throws -> URL {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: size)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: generator.next()) }
        let url = root.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// The vault file and its WAL, concatenated, for scanning.
    public func vaultFileBytes() throws -> [UInt8] {
        let base = configuration.dataDirectory.appendingPathComponent(VaultDatabase.fileName).path
        var bytes: [UInt8] = []
        for path in [base, base + "-wal"] where FileManager.default.fileExists(atPath: path) {
            bytes += [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return bytes
    }
}

/// Deterministic bytes for test files.
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in these bytes.
    public func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        return withUnsafeBufferPointer { haystack in
            needle.withUnsafeBufferPointer { pattern in
                let first = pattern[0]
                var index = 0
                let last = haystack.count - pattern.count
                while index <= last {
                    if haystack[index] == first,
                        memcmp(haystack.baseAddress! + index, pattern.baseAddress!, pattern.count) == 0
                    {
                        return true
                    }
                    index += 1
                }
                return false
            }
        }
    }
}
