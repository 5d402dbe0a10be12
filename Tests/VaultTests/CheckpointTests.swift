import Foundation
import GRDB
import Synchronization
import Testing

@testable import Vault

/// WAL checkpoints: the outbox worker's, beside the revocation's TRUNCATE.
@Suite("Checkpoints")
struct CheckpointTests {
    func freshVault() throws -> (VaultDatabase, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retract-ckpt-\(UUID().uuidString)")
        return (try VaultDatabase.open(directory: directory), directory)
    }

    /// Something in the WAL for a checkpoint to copy.
    func scribble(_ vault: VaultDatabase) throws {
        try vault.writer.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS scratch (x)")
            try db.execute(sql: "INSERT INTO scratch VALUES (randomblob(8192))")
        }
    }

    @Test("a revocation's TRUNCATE checkpoint succeeds while the worker checkpoints aside without pause")
    func truncateBesideCheckpointAside() throws {
        let (vault, directory) = try freshVault()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The worker's checkpoints run on a thread of their own, so they overlap the
        // truncations however busy the machine is.
        let stop = Atomic(false)
        let asideRuns = Atomic(0)
        let asideErrors = Mutex<[String]>([])
        let finished = DispatchSemaphore(value: 0)
        let worker = Thread {
            while !stop.load(ordering: .relaxed) {
                do {
                    try vault.checkpointAside()
                    asideRuns.add(1, ordering: .relaxed)
                } catch {
                    asideErrors.withLock { $0.append("\(error)") }
                }
            }
            finished.signal()
        }
        worker.start()
        while asideRuns.load(ordering: .relaxed) == 0 { Thread.sleep(forTimeInterval: 0.001) }
        var truncated = 0
        for _ in 0..<50 {
            try scribble(vault)
            try vault.checkpointTruncating()
            truncated += 1
        }
        stop.store(true, ordering: .relaxed)
        finished.wait()
        #expect(truncated == 50)
        #expect(asideErrors.withLock { $0 }.isEmpty)
    }

    @Test("a TRUNCATE checkpoint leaves the WAL empty")
    func truncateEmptiesTheWAL() throws {
        let (vault, directory) = try freshVault()
        defer { try? FileManager.default.removeItem(at: directory) }
        try vault.writer.write { db in
            try db.execute(sql: "CREATE TABLE scratch (x)")
            try db.execute(sql: "INSERT INTO scratch VALUES (randomblob(65536))")
        }
        let wal = directory.appendingPathComponent(VaultDatabase.fileName + "-wal").path
        #expect(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? 0 > 0)
        try vault.checkpointTruncating()
        #expect(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int == 0)
    }

    /// A message with one live grant, stored in `vault`; returns the grant's id.
    func storeMessage(_ vault: VaultDatabase, id: String) throws -> Int64 {
        let message = MessageRecord(
            id: id, sender: "alice@corp.test", senderName: nil, sealedSubject: Data([1]), subjectKid: "k",
            locale: "en", createdAt: Date(), expiresAt: nil, maxViews: nil, deliverAfter: Date(), partCount: 1)
        let grant = GrantRecord(
            messageId: id, tokenHash: Data(repeating: 7, count: 32), recipient: "bob@partner.test", kind: .to,
            shareKid: "k", sealedShare: Data([9]), wrappedDek: Data([8]), notificationMessageId: "<n@x>")
        let stored = try vault.storeSealedMessage(message, grants: [NewGrant(grant: grant, notification: nil)]) {
            writer in
            try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
            try writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: [1])
            try writer.finishPart(0, chunkCount: 1, plaintextSize: 0)
        }
        return try #require(stored.first?.id)
    }

    @Test("a committed revocation reports success while a reader keeps the WAL from being truncated, and the owed checkpoint runs once it can")
    func revocationSucceedsWhileTheCheckpointStaysBusy() throws {
        // Given a stored message, and another connection's reader holding a snapshot that
        // uses the WAL (so no TRUNCATE checkpoint can finish)
        let (vault, directory) = try freshVault()
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = "00112233445566778899aabbccddeeff"
        let grantID = try storeMessage(vault, id: id)
        let other = try DatabaseQueue(path: try #require(vault.path))
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let ended = DispatchSemaphore(value: 0)
        Thread {
            try? other.read { db in
                _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grants")
                holding.signal()
                release.wait()
            }
            ended.signal()
        }.start()
        holding.wait()

        // When the message is revoked
        let revoked = try vault.revoke(messageID: id) { tx in
            try tx.revokeGrants([grantID], at: Date(), reason: nil, replacementMessageID: nil)
        }

        // Then the revocation reports success, is committed, and owes its checkpoint
        #expect(revoked == 1)
        #expect(try vault.grants(messageID: id).first?.revokedAt != nil)
        #expect(vault.owesTruncatingCheckpoint)

        // When the reader ends and the owed checkpoint is settled
        release.signal()
        ended.wait()
        let settled = vault.settleOwedCheckpoint()

        // Then the WAL is empty and nothing is owed any more
        #expect(settled)
        #expect(!vault.owesTruncatingCheckpoint)
        let wal = directory.appendingPathComponent(VaultDatabase.fileName + "-wal").path
        #expect(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int == 0)
    }
}
