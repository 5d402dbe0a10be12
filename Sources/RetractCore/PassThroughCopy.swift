import Foundation
import Mail
import Seal
import Sodium
import Vault

/// A gateway message's pass-through copy, stored once per message however many internal
/// recipients it goes to: the bytes that leave (the original, or its `CleanedCopy`) are
/// part 1 of the vault message (`VaultDatabase.passThroughPartIndex`), sealed chunk by
/// chunk under the message's data key — the very part the links open as `original.eml`
/// when there are outsiders, so the copy costs no second sealing and no second file. Each
/// recipient's outbox row holds, sealed under the master key, only a reference: that data
/// key and the `Received:` line to put in front.
///
/// The outbox worker streams the copy from the part (`Source`): the trace line, then each
/// chunk decrypted as the SMTP client writes it, so a 100 MiB message is never in memory.
/// While a row may still deliver it the part stays, whatever a revocation did to the links
/// (internal recipients hold no revocable link); once every row is done and no link is
/// live it goes (`VaultDatabase.removeFinishedPassThroughCopies`), and with the rows'
/// references erased the server holds the data key no longer.
struct PassThroughCopy {
    /// What a reference starts with: a NUL, which no stored message (a `Received:` line
    /// first) starts with, so a row written before references existed still reads as bytes.
    static let magic: [UInt8] = Array("\0retract-passthrough/v1\n".utf8)

    /// The message's data key, which the part is sealed under.
    let key: SecureBytes
    /// The trace field put in front of the copy, without CR LF.
    let traceField: String

    /// The copy of a message whose data key is `key` (`DataKey.byteCount` bytes).
    init(key: SecureBytes, traceField: String) {
        self.key = key
        self.traceField = traceField
    }

    /// The data key the part is sealed under.
    func dataKey() throws(RetractError) -> DataKey {
        try Self.dataKey(key)
    }

    /// `bytes` as a data key.
    static func dataKey(_ bytes: SecureBytes) throws(RetractError) -> DataKey {
        do {
            return try DataKey(secret: bytes)
        } catch {
            throw RetractError(.keys, "the pass-through copy's key is not a data key")
        }
    }

    /// The reference an outbox row seals: magic, the 32 key bytes, the trace field.
    func reference() -> [UInt8] {
        var bytes = Self.magic
        key.withUnsafeBytes { bytes.append(contentsOf: $0) }
        bytes += Array(traceField.utf8)
        return bytes
    }

    /// The reference in `bytes` (an opened outbox row), nil when the row holds a whole
    /// message instead; throws when it starts like a reference but is cut short.
    static func parse(_ bytes: [UInt8]) throws(RetractError) -> PassThroughCopy? {
        guard bytes.starts(with: magic) else { return nil }
        let keyEnd = magic.count + DataKey.byteCount
        guard bytes.count >= keyEnd else {
            throw RetractError(.storage, "a pass-through reference in the outbox is cut short")
        }
        let key = bytes[magic.count..<keyEnd].withUnsafeBytes { SecureBytes(copying: $0) }
        return PassThroughCopy(key: key, traceField: String(decoding: bytes[keyEnd...], as: UTF8.self))
    }

    /// The copy as the transport reads it: the trace line, then the part decrypted chunk
    /// by chunk.
    final class Source: MailContentSource {
        let vault: VaultDatabase
        let messageID: MessageID
        let part: SealedPartRecord
        let dataKey: DataKey
        let prefix: [UInt8]

        init(vault: VaultDatabase, messageID: MessageID, part: SealedPartRecord, dataKey: DataKey, traceField: String) {
            self.vault = vault
            self.messageID = messageID
            self.part = part
            self.dataKey = dataKey
            self.prefix = Array((traceField + "\r\n").utf8)
        }

        var size: Int64 { Int64(prefix.count) + part.plaintextSize }

        func makeReader() throws(MailError) -> any MailContentReader {
            do {
                let input = try vault.openSealedPart(part)
                let opener = try PartOpener(
                    dataKey: dataKey, messageID: messageID, partIndex: UInt32(part.partIndex),
                    header: [UInt8](part.header))
                return Reader(input: input, opener: opener, prefix: prefix, messageID: messageID.description)
            } catch {
                throw Reader.failure(error, messageID: messageID.description)
            }
        }
    }

    /// One pass over a copy: the prefix, then one 64 KiB chunk per call.
    final class Reader: MailContentReader {
        private let input: SealedPartStore.Input
        private let opener: PartOpener
        private var prefix: [UInt8]?
        private var next = 0
        private let messageID: String

        init(input: SealedPartStore.Input, opener: PartOpener, prefix: [UInt8], messageID: String) {
            self.input = input
            self.opener = opener
            self.prefix = prefix
            self.messageID = messageID
        }

        func nextChunk() throws(MailError) -> [UInt8]? {
            if let prefix {
                self.prefix = nil
                return prefix
            }
            do {
                guard next < input.chunkCount else {
                    try opener.finish()
                    return nil
                }
                let ciphertext = try input.read(chunk: next)
                next += 1
                return try opener.openChunk(ciphertext).plaintext
            } catch {
                throw Self.failure(error, messageID: messageID)
            }
        }

        /// A read failure as the transport reports it: a copy that does not authenticate
        /// is lost for good (it never will); a file that cannot be read now may be later.
        static func failure(_ error: any Error, messageID: String) -> MailError {
            let permanent = error is SealError
            return MailError.contentUnreadable(
                "the pass-through copy of message \(messageID) cannot be read from the vault: \(error)",
                temporary: !permanent)
        }
    }
}
