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
}
