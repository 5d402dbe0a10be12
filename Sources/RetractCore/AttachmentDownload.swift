import Foundation
import Seal
import Vault

/// One attachment being decrypted chunk by chunk for a reader.
///
/// Holds the data key only as long as the download runs; each `nextChunk()` reads one
/// chunk from the vault and opens it, so memory stays at one chunk.
public final class AttachmentDownload: @unchecked Sendable {
    /// The file name the sender attached.
    public let name: String
    /// Its media type.
    public let mediaType: String
    /// Its plaintext size in bytes.
    public let size: Int64

    private let vault: VaultDatabase
    private let messageID: String
    private let partIndex: Int
    private let chunkCount: Int
    private let opener: PartOpener
    private var nextIndex = 0

    init(info: AttachmentInfo, vault: VaultDatabase, messageID: String, part: SealedPartRecord, opener: PartOpener) {
        self.name = info.name
        self.mediaType = info.mediaType
        self.size = info.size
        self.vault = vault
        self.messageID = messageID
        self.partIndex = part.partIndex
        self.chunkCount = part.chunkCount
        self.opener = opener
    }

    /// The next plaintext chunk, or nil after the last one.
    ///
    /// Throws `OpenFailure.damaged` when a chunk fails to authenticate, is missing (the
    /// message was revoked meanwhile), or the part ends without its final chunk.
    public func nextChunk() async throws(OpenFailure) -> [UInt8]? {
        guard nextIndex < chunkCount else { return nil }
        let stored: [UInt8]?
        do {
            stored = try await vault.sealedChunk(messageID: messageID, part: partIndex, chunk: nextIndex)
        } catch {
            throw .damaged
        }
        guard let ciphertext = stored else { throw .damaged }
        do {
            let (plaintext, isFinal) = try opener.openChunk(ciphertext)
            nextIndex += 1
            if nextIndex == chunkCount {
                guard isFinal else { throw OpenFailure.damaged }
                try opener.finish()
            } else if isFinal {
                throw OpenFailure.damaged
            }
            return plaintext
        } catch {
            throw .damaged
        }
    }
}
