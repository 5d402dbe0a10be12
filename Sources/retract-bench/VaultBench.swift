import Foundation
import Seal
import Sodium
import Vault

/// The vault alone, without any cryptography: how fast `VaultDatabase` stores and returns
/// the chunks of one part, so the full path's time can be split into cipher and storage.
///
/// Writing goes through `storeSealedMessage` and `SealedPartWriter.appendChunk` in one
/// transaction, as `RetractService.send` does, with one ready-made 64 KiB + 17 byte chunk
/// stored at every index (SQLite does not look at the bytes). Reading is the `sealedChunk`
/// loop of `AttachmentDownload.nextChunk()`. Each run uses a fresh data directory.
struct VaultBench {
    /// Plaintext bytes the part stands for.
    let size: Int64
    /// A folder for the data directories of the runs.
    let workDirectory: URL

    /// One store and one fetch of the whole part in `vault-run-<index>`, removed afterwards;
    /// returns their seconds.
    func runOnce(index: Int) async throws -> (write: Double, read: Double) {
        let chunkSize = Int64(SealFormat.chunkSize)
        let chunkCount = Int(max(1, (size + chunkSize - 1) / chunkSize))
        let chunk = Random.bytes(SealFormat.sealedChunkSize)
        let directory = workDirectory.appendingPathComponent("vault-run-\(index)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try VaultDatabase.open(directory: directory)
        let messageID = MessageID.random().description
        let message = MessageRecord(
            id: messageID, sender: "sender@example.com", senderName: nil, sealedSubject: Data(count: 72),
            subjectKid: "bench", locale: "en", createdAt: Date(), expiresAt: nil, maxViews: nil,
            deliverAfter: Date(), partCount: 2)
        let (_, writeSeconds) = try Stopwatch.measure { () throws -> Void in
            try vault.storeSealedMessage(message, grants: []) { writer in
                try writer.beginPart(1, header: [UInt8](repeating: 0, count: SealFormat.partHeaderSize))
                for chunkIndex in 0..<chunkCount {
                    try writer.appendChunk(partIndex: 1, chunkIndex: chunkIndex, ciphertext: chunk)
                }
                try writer.finishPart(1, chunkCount: chunkCount, plaintextSize: size)
            }
        }
        let (_, readSeconds) = try await Stopwatch.measureAsync { () async throws -> Void in
            for chunkIndex in 0..<chunkCount {
                guard let stored = try await vault.sealedChunk(messageID: messageID, part: 1, chunk: chunkIndex),
                    stored.count == chunk.count
                else { throw BenchError("the vault lost chunk \(chunkIndex)") }
            }
        }
        return (writeSeconds, readSeconds)
    }
}
