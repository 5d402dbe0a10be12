/// The domain strings and additional-data layouts of docs/crypto.md, in one place.
enum AdditionalData {
    static let share = Array("retract/share/\(SealFormat.version)".utf8)
    static let kek = Array("retract/kek/\(SealFormat.version)".utf8)
    static let wrap = Array("retract/wrap/\(SealFormat.version)".utf8)
    static let part = Array("retract/part/\(SealFormat.version)".utf8)
    static let metadata = Array("retract/meta/\(SealFormat.version)".utf8)

    /// `"retract/share/v1" ‖ kid ‖ token_hash`
    static func share(kid: String, tokenHash: TokenHash) -> [UInt8] {
        share + Array(kid.utf8) + tokenHash.bytes
    }

    /// `"retract/wrap/v1" ‖ message_id ‖ token_hash`
    static func wrap(messageID: MessageID, tokenHash: TokenHash) -> [UInt8] {
        wrap + messageID.bytes + tokenHash.bytes
    }

    /// `"retract/part/v1" ‖ message_id ‖ u32be(part_index)`, the first chunk's additional data.
    static func part(messageID: MessageID, partIndex: UInt32) -> [UInt8] {
        let index = partIndex.bigEndian
        return part + messageID.bytes + withUnsafeBytes(of: index) { Array($0) }
    }

    /// `"retract/meta/v1" ‖ kid ‖ context`
    static func metadata(kid: String, context: [UInt8]) -> [UInt8] {
        metadata + Array(kid.utf8) + context
    }
}
