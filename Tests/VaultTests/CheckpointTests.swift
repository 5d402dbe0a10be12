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
}
