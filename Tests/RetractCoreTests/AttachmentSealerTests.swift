import Foundation
import Seal
import Testing
import Vault

@testable import RetractCore

@Suite("Sealing an attachment file: one I/O thread, in-place sealing, a slot per write")
struct AttachmentSealerTests {
    static let chunk = SealFormat.chunkSize
    static let slot = AttachmentSealer.chunksPerSlot * SealFormat.chunkSize

    /// A fresh folder for one test's vault and files.
    final class Scratch {
        let root: URL
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sealer-tests-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: root) }

        /// `size` deterministic pseudo-random bytes, also written to a file.
        func file(size: Int, seed: UInt64) throws -> (url: URL, bytes: [UInt8]) {
            var state = seed &+ 0x9E37_79B9_7F4A_7C15
            let bytes = (0..<size).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
            let url = root.appendingPathComponent("attachment-\(size).bin")
            try Data(bytes).write(to: url)
            return (url, bytes)
        }
    }

    /// What a sealed part turned out to be once stored and opened again.
    struct Stored {
        var returnedSize: Int64
        var record: SealedPartRecord
        var fileSize: Int64
        var plaintext: [UInt8]
        var finalChunks: [Int]
    }

    /// Seals `file` as part 1 of a new message in `vault`, then opens every stored chunk.
    func sealAndReopen(_ file: URL, in vault: VaultDatabase) async throws -> Stored {
        let dataKey = DataKey.generate()
        let messageID = MessageID.random()
        var returnedSize: Int64 = 0
        try vault.storeSealedMessage(Self.message(messageID), grants: []) { writer in
            returnedSize = try AttachmentSealer.seal(
                file: file, dataKey: dataKey, messageID: messageID, partIndex: 1, into: writer)
        }
        let record = try #require(try await vault.sealedPart(messageID: messageID.description, index: 1))
        let input = try vault.openSealedPart(record)
        let opener = try PartOpener(dataKey: dataKey, messageID: messageID, partIndex: 1, header: [UInt8](record.header))
        var plaintext: [UInt8] = []
        var finalChunks: [Int] = []
        for index in 0..<record.chunkCount {
            let opened = try opener.openChunk(try input.read(chunk: index))
            plaintext += opened.plaintext
            if opened.isFinal { finalChunks.append(index) }
        }
        try opener.finish()
        return Stored(
            returnedSize: returnedSize, record: record, fileSize: input.size, plaintext: plaintext,
            finalChunks: finalChunks)
    }

    static func message(_ id: MessageID) -> MessageRecord {
        MessageRecord(
            id: id.description, sender: "alice@corp.test", senderName: nil, sealedSubject: Data(count: 72),
            subjectKid: "test", locale: "en", createdAt: Date(), expiresAt: nil, maxViews: nil,
            deliverAfter: Date(), partCount: 2)
    }

    @Test(
        "a file of any size opens to exactly its bytes, in full chunks and one FINAL chunk at the end",
        arguments: [
            0, 1, chunk - 1, chunk, chunk + 1,
            slot - 1, slot, slot + 1,  // the input ends inside, at the end of, or just after one slot
            2 * slot,  // it ends exactly at a slot boundary after the first slot
            AttachmentSealer.depth * slot + 3 * chunk + 5,  // more slots than the ring holds
        ])
    func roundTrip(size: Int) async throws {
        let scratch = try Scratch()
        let vault = try VaultDatabase.open(directory: scratch.root.appendingPathComponent("data"))
        let (file, bytes) = try scratch.file(size: size, seed: UInt64(size))

        let stored = try await sealAndReopen(file, in: vault)

        let chunks = max(1, (size + Self.chunk - 1) / Self.chunk)
        let sameBytes = stored.plaintext == bytes
        #expect(sameBytes)
        #expect(stored.returnedSize == Int64(size))
        #expect(stored.record.plaintextSize == Int64(size))
        #expect(stored.record.chunkCount == chunks)
        #expect(stored.finalChunks == [chunks - 1])
        #expect(stored.fileSize == Int64(size + chunks * SealFormat.chunkOverhead))
    }

    @Test("sealing the same file twice gives two streams with their own headers that open to the same bytes")
    func freshHeaderPerPart() async throws {
        let scratch = try Scratch()
        let vault = try VaultDatabase.open(directory: scratch.root.appendingPathComponent("data"))
        let (file, _) = try scratch.file(size: Self.slot + 9, seed: 7)

        let first = try await sealAndReopen(file, in: vault)
        let second = try await sealAndReopen(file, in: vault)

        #expect(first.record.header != second.record.header)
        #expect(first.plaintext == second.plaintext)
    }

    @Test("a read that fails on the I/O thread fails the seal as attachmentUnreadable and stores nothing")
    func readFailureStoresNothing() async throws {
        let scratch = try Scratch()
        let dataDirectory = scratch.root.appendingPathComponent("data")
        let vault = try VaultDatabase.open(directory: dataDirectory)
        // A directory opens for reading, but every read of it fails (EISDIR) on the I/O thread.
        let unreadable = scratch.root.appendingPathComponent("a-directory")
        try FileManager.default.createDirectory(at: unreadable, withIntermediateDirectories: true)
        let messageID = MessageID.random()

        var failure: RetractError?
        do {
            try vault.storeSealedMessage(Self.message(messageID), grants: []) { writer in
                _ = try AttachmentSealer.seal(
                    file: unreadable, dataKey: DataKey.generate(), messageID: messageID, partIndex: 1, into: writer)
            }
        } catch let error as RetractError {
            failure = error
        }

        #expect(failure?.code == .attachmentUnreadable)
        #expect(try vault.message(id: messageID.description) == nil)
        let partFiles = try FileManager.default.contentsOfDirectory(
            atPath: dataDirectory.appendingPathComponent(SealedPartStore.directoryName).path)
        #expect(partFiles.isEmpty)
    }

    @Test("an attachment that does not exist fails as attachmentUnreadable before any part is begun")
    func missingFile() async throws {
        let scratch = try Scratch()
        let vault = try VaultDatabase.open(directory: scratch.root.appendingPathComponent("data"))
        let messageID = MessageID.random()

        var failure: RetractError?
        do {
            try vault.storeSealedMessage(Self.message(messageID), grants: []) { writer in
                _ = try AttachmentSealer.seal(
                    file: scratch.root.appendingPathComponent("missing.bin"), dataKey: DataKey.generate(),
                    messageID: messageID, partIndex: 1, into: writer)
            }
        } catch let error as RetractError {
            failure = error
        }

        #expect(failure?.code == .attachmentUnreadable)
        #expect(try vault.message(id: messageID.description) == nil)
    }
}
