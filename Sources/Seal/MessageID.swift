import Sodium

/// A message's 16 random bytes; its text form is 32 lowercase hex digits.
public struct MessageID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Bytes in a message id.
    public static let byteCount = 16

    /// The 16 bytes.
    public let bytes: [UInt8]

    /// Wraps 16 bytes; throws `invalidLength` for any other count.
    public init(bytes: [UInt8]) throws(SealError) {
        guard bytes.count == Self.byteCount else { throw .invalidLength }
        self.bytes = bytes
    }

    /// A fresh random id.
    public static func random() -> MessageID {
        MessageID(validated: Random.bytes(byteCount))
    }

    /// Parses exactly 32 lowercase hex digits; anything else is `nonCanonicalEncoding`.
    public init(parsing text: String) throws(SealError) {
        guard text.utf8.count == Self.byteCount * 2 else { throw .nonCanonicalEncoding }
        do {
            bytes = try Hex.decode(text)
        } catch {
            throw .nonCanonicalEncoding
        }
    }

    private init(validated bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// 32 lowercase hex digits.
    public var description: String { Hex.encode(bytes) }

    /// Decodes the hex text form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try MessageID(parsing: container.decode(String.self))
    }

    /// Encodes the hex text form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
