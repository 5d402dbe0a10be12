import Foundation

/// Reads the message class (`attMessageClass`, e.g. `IPM.Outlook.Recall`) out of a TNEF
/// stream: the `winmail.dat` that older Outlook attaches instead of writing MIME.
///
/// TNEF is a signature (0x223E9F78), a two-byte key, then attributes: a level byte, a 32-bit
/// attribute id, a 32-bit length, that many bytes, and a 16-bit checksum. Every length is
/// checked against what is left before it is used, and at most `maximumAttributes` are read,
/// so a hostile stream ends the read (nil), never an over-read or a long loop.
enum TNEFMessageClass {
    static let signature: UInt32 = 0x223E_9F78
    /// attMessageClass: id 0x8008 of type atpString (0x0007).
    static let messageClassAttribute: UInt32 = 0x0007_8008
    static let maximumAttributes = 256
    /// A message class is a short ASCII name.
    static let maximumClassLength = 255

    /// The message-level class of `bytes`, nil when it is not TNEF, is damaged, or has none.
    static func read(_ bytes: [UInt8]) -> String? {
        var offset = 0
        func u32() -> UInt32? {
            guard bytes.count - offset >= 4 else { return nil }
            defer { offset += 4 }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
        }
        guard u32() == signature, bytes.count - offset >= 2 else { return nil }
        offset += 2
        for _ in 0..<maximumAttributes {
            guard bytes.count - offset >= 1 else { return nil }
            let level = bytes[offset]
            offset += 1
            guard let id = u32(), let length = u32().map(Int.init), length >= 0, bytes.count - offset >= length + 2
            else { return nil }
            let data = bytes[offset..<(offset + length)]
            offset += length + 2
            // Level 1 is the message; level 2 attributes belong to attachments.
            if level == 1, id == messageClassAttribute {
                guard length <= maximumClassLength + 1 else { return nil }
                let text = data.prefix { $0 != 0 }
                guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
                return String(decoding: text, as: UTF8.self)
            }
        }
        return nil
    }
}
