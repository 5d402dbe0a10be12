/// A message's bytes as a transport receives them: whole in memory (a rendered
/// notification), or read piece by piece from a source (a gateway pass-through copy of
/// any size, decrypted chunk by chunk from the vault), so a large message never sits in
/// memory whole.
public enum MailContent: Sendable, Hashable {
    /// The rendered message.
    case bytes([UInt8])
    /// A message read through its source, from the start on every attempt.
    case streamed(any MailContentSource)

    /// The size in bytes (what `SIZE=` declares and a server's limit is checked against).
    public var size: Int64 {
        switch self {
        case .bytes(let bytes): Int64(bytes.count)
        case .streamed(let source): source.size
        }
    }

    /// The whole message in memory: for transports that cannot stream (and tests).
    public func materialized() throws(MailError) -> [UInt8] {
        switch self {
        case .bytes(let bytes):
            return bytes
        case .streamed(let source):
            let reader = try source.makeReader()
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(clamping: source.size))
            while let chunk = try reader.nextChunk() { bytes += chunk }
            return bytes
        }
    }

    /// Equal when both hold the same bytes, or the same source object.
    public static func == (lhs: MailContent, rhs: MailContent) -> Bool {
        switch (lhs, rhs) {
        case (.bytes(let left), .bytes(let right)): left == right
        case (.streamed(let left), .streamed(let right)): left === right
        default: false
        }
    }

    /// Hashes the bytes, or the source's identity.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .bytes(let bytes): hasher.combine(bytes)
        case .streamed(let source): hasher.combine(ObjectIdentifier(source))
        }
    }
}

/// Where a streamed message's bytes come from; read again from the start for every attempt
/// (a retry on a new connection), so it must give the same bytes each time.
public protocol MailContentSource: AnyObject, Sendable {
    /// The message's size in bytes.
    var size: Int64 { get }
    /// A reader positioned at the first byte; throws when the content cannot be read (the
    /// mail then fails like any other delivery error, and is retried when `isTemporary`).
    func makeReader() throws(MailError) -> any MailContentReader
}

/// One pass over a streamed message, used by one task at a time.
public protocol MailContentReader: AnyObject {
    /// The next piece of the message (any size, usually tens of KiB), nil after the last.
    func nextChunk() throws(MailError) -> [UInt8]?
}
