import CSodium

/// Secret bytes that are zeroed (`sodium_memzero`) when released and never printed.
///
/// The buffer is fixed-size and owned by this object. It is not `mlock`ed: locking pages per
/// key would exhaust `RLIMIT_MEMLOCK` under load; run with encrypted (or no) swap instead.
/// Copying bytes *into* a `SecureBytes` cannot wipe the source: prefer producing secrets
/// directly in one (`random(count:)`, `withUnsafeMutableBytes`).
///
/// `Sendable` because the key types built on it never mutate it after creation; code that
/// mutates a shared instance must synchronise on its own.
public final class SecureBytes: @unchecked Sendable {
    private let storage: UnsafeMutableRawPointer

    /// Number of bytes held.
    public let count: Int

    /// Allocates `count` zero bytes.
    public init(count: Int) {
        precondition(count >= 0, "SecureBytes count must not be negative")
        self.count = count
        storage = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(count, 1))
    }

    /// Copies `bytes`; the caller remains responsible for wiping its own copy.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            storage.copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// Copies `bytes`; a Swift array cannot be wiped reliably, so keep such copies short-lived.
    public convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress, source.count > 0 {
                storage.copyMemory(from: base, byteCount: source.count)
            }
        }
    }

    /// Copies another secret into a buffer of its own.
    public convenience init(copying other: SecureBytes) {
        self.init(count: other.count)
        if other.count > 0 {
            storage.copyMemory(from: other.storage, byteCount: other.count)
        }
    }

    /// `count` bytes from libsodium's CSPRNG.
    public static func random(count: Int) -> SecureBytes {
        let bytes = SecureBytes(count: count)
        bytes.withUnsafeMutableBytes { Random.fill($0) }
        return bytes
    }

    /// Lends the bytes for reading; the pointer must not escape `body`.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    /// Lends the bytes for writing; the pointer must not escape `body`.
    public func withUnsafeMutableBytes<Result, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeMutableRawBufferPointer(start: storage, count: count))
    }

    /// Overwrites every byte with zero now, without waiting for release.
    public func zero() {
        sodium_memzero(storage, Swift.max(count, 1))
    }

    deinit {
        sodium_memzero(storage, Swift.max(count, 1))
        storage.deallocate()
    }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Names the size only: secret bytes never reach logs or string interpolation.
    public var description: String { "SecureBytes(redacted, \(count) bytes)" }

    /// Same as `description`, so `debugPrint` and `String(reflecting:)` stay redacted.
    public var debugDescription: String { description }

    /// An empty mirror, so `dump` shows nothing of the storage.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .class) }
}
