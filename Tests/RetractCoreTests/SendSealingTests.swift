import Foundation
import RetractTestSupport
import Seal
import Synchronization
import Testing

@testable import RetractCore
@testable import Vault

/// A send seals its attachments before it takes the vault's write lock.
@Suite("Sealing a send outside the write lock")
struct SendSealingTests {
    @Test("another message's revocation commits while a large send is still sealing")
    func revocationCommitsWhileASendSeals() async throws {
        // Given a message to revoke, and a large send held in the middle of its sealing
        let bench = try TestBench()
        let vault = bench.service.vault
        let first = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "first", body: "b"))
        let grantID = try #require(try vault.grants(messageID: first.messageID).first?.id)
        let big = try bench.makeFile(named: "big.bin", size: 8 << 20)
        let revokedWhileSealing = Atomic(false)
        let revocationCommitted = Atomic(false)

        // When the first message is revoked from another thread while the send seals
        let second = try await bench.service.send(
            Draft(from: "carol@corp.test", to: ["dave@partner.test"], subject: "big", body: "b", attachments: [big]),
            whileSealing: {
                let done = DispatchSemaphore(value: 0)
                Thread {
                    // The revocation's write transaction; it waits up to 10 s for the write lock.
                    let revoked = try? vault.revoke(messageID: first.messageID) { tx in
                        try tx.revokeGrants([grantID], at: Date(), reason: nil, replacementMessageID: nil)
                    }
                    revocationCommitted.store(revoked == 1, ordering: .relaxed)
                    done.signal()
                }.start()
                // Waits for the revocation, or gives up after 30 s (the lock was held).
                revokedWhileSealing.store(done.wait(timeout: .now() + 30) == .success, ordering: .relaxed)
            })

        // Then the revocation committed before the send went on, and the send is stored whole
        let (inTime, committed) = (
            revokedWhileSealing.load(ordering: .relaxed), revocationCommitted.load(ordering: .relaxed)
        )
        #expect(inTime)
        #expect(committed)
        #expect(try vault.grants(messageID: first.messageID).first?.revokedAt != nil)
        let link = try Link.parse(second.recipients[0].link)
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var bytes: [UInt8] = []
        while let chunk = try await download.nextChunk() { bytes += chunk }
        #expect(bytes == [UInt8](try Data(contentsOf: big)))
    }

    /// The staging files in the parts directory.
    func stagingFiles(_ bench: TestBench) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: bench.service.vault.parts.directory.path)
            .filter { $0.hasSuffix(".sealing") }
    }

    @Test("a replacement's attachments are sealed before the revocation's transaction and download byte for byte")
    func replacementAttachmentsAreSealedFirst() async throws {
        // Given a message to bob and a corrected version with an attachment
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "Prices", body: "Price: 100"))
        let file = try bench.makeFile(named: "prices.bin", size: 3 * SealFormat.chunkSize + 9)
        let stagedBeforeTheTransaction = Mutex<[String]>([])

        // When the message is revoked with that replacement
        let report = try await bench.service.revokeQueuingNotices(
            RevokeRequest(
                messageID: receipt.messageID, reason: "corrected",
                replacement: .init(body: "Price: 120", attachments: [file])),
            afterRendering: { [self] in
                let staged = try stagingFiles(bench)
                stagedBeforeTheTransaction.withLock { $0 = staged }
            })
        _ = await bench.service.deliverDueMail()

        // Then the attachment was already sealed when the transaction began, nothing staged
        // is left, and bob's correction opens the attachment as it was
        #expect(stagedBeforeTheTransaction.withLock { $0 }.count == 1)
        #expect(try stagingFiles(bench).isEmpty)
        let notice = try #require(
            try bench.deliveredMail().first { $0.header("Subject")?.hasPrefix("Correction:") == true })
        let link = try Link.parse(try #require(notice.links.first))
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var bytes: [UInt8] = []
        while let chunk = try await download.nextChunk() { bytes += chunk }
        #expect(bytes == [UInt8](try Data(contentsOf: file)))
        #expect(report.replacementId != nil)
    }

    @Test("a replacement that is not stored (every recipient already revoked) leaves no staged file")
    func unstoredReplacementLeavesNothing() async throws {
        // Given a message whose only recipient is already revoked
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "Prices", body: "Price: 100"))
        _ = try await bench.service.revoke(RevokeRequest(messageID: receipt.messageID))
        let file = try bench.makeFile(named: "prices.bin", size: 100_000)

        // When it is revoked again with a replacement that has an attachment
        let report = try await bench.service.revoke(
            RevokeRequest(messageID: receipt.messageID, replacement: .init(body: "Price: 120", attachments: [file])))

        // Then no replacement was stored and its sealed attachment is gone
        #expect(report.replacementId == nil)
        #expect(try stagingFiles(bench).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: bench.service.vault.parts.directory.path).isEmpty)
    }
}
