/// One sealed part as stored: the stream header and its chunks in order.
public struct SealedPart: Sendable, Equatable {
    /// The 24-byte secretstream header.
    public let header: [UInt8]
    /// The sealed chunks; every one but the last is `SealFormat.sealedChunkSize` bytes.
    public let chunks: [[UInt8]]

    /// Wraps stored bytes; nothing is checked until the part is opened.
    public init(header: [UInt8], chunks: [[UInt8]]) {
        self.header = header
        self.chunks = chunks
    }
}
