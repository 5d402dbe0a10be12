import Foundation
import GRDB
import Synchronization

/// Group commit for the reader's per-request writes (issue 15): the view counts and
/// access-log rows of opens that arrive together are written in one transaction.
///
/// Why: every open used to commit a transaction of its own on the one writer connection,
/// one after the other: a hop to the writer queue, `BEGIN`, two statements, `COMMIT` (the
/// same grant and log pages appended to the WAL again each time, and an automatic
/// checkpoint with its `fsync` every thousand pages). Opens that wait for the writer now
/// share the next transaction instead.
///
/// What stays exact: the writes run one after the other in arrival order, with the same
/// statements as before (the view limit is still the `UPDATE … WHERE views < max_views`),
/// so a batch counts exactly what the same writes one by one would; a write that fails
/// is undone alone (an open's two statements in a savepoint). Every caller is answered only after the transaction that
/// holds its write has committed (a failed commit fails every write in it), so an open is
/// never answered before it is counted. A batch is taken on the writer queue, in its turn
/// behind any revocation queued before it, and one batch runs per turn: a revocation that
/// committed before an open's write reached the writer makes that open's `UPDATE` count
/// nothing, as it did before.
final class AccessWriteBatcher: Sendable {
    /// One write of the reader's paths.
    enum Write: Sendable {
        /// `recordOpen`: a view and its `opened` log row, unless the grant is revoked or used up.
        case open(grantID: Int64, tokenHash: Data, maxViews: Int?, at: Date)
        /// `recordAccess`: one access-log row.
        case access(grantID: Int64?, tokenHash: Data, at: Date, result: AccessEventRecord.Result)
    }

    private struct Pending {
        var write: Write
        var continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        /// Whether a batch is queued on, or running on, the writer.
        var scheduled = false
    }

    /// Writes per transaction at most; the rest wait for the next turn.
    static let maximumBatch = 512

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `write` in the next shared transaction; returns once that transaction committed.
    /// For `.open`, whether the view was counted; `.access` returns true.
    func submit(_ write: Write) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let schedule = state.withLock { state in
                state.pending.append(Pending(write: write, continuation: continuation))
                guard !state.scheduled else { return false }
                state.scheduled = true
                return true
            }
            if schedule { scheduleBatch() }
        }
    }

    /// Queues one batch on the writer; it schedules the next one if writes arrived meanwhile.
    private func scheduleBatch() {
        writer.asyncWriteWithoutTransaction { db in
            self.runBatch(db)
        }
    }

    private func runBatch(_ db: Database) {
        let batch: [Pending] = state.withLock { state in
            let count = min(state.pending.count, Self.maximumBatch)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
        var results: [Result<Bool, any Error>] = []
        results.reserveCapacity(batch.count)
        do {
            try db.inTransaction(.immediate) {
                for item in batch {
                    do {
                        results.append(.success(try Self.applyAlone(item.write, db)))
                    } catch {
                        results.append(.failure(error))
                    }
                }
                return .commit
            }
        } catch {
            // Nothing of the batch is stored: every write in it failed.
            results = Array(repeating: .failure(error), count: batch.count)
        }
        let more = state.withLock { state in
            if state.pending.isEmpty {
                state.scheduled = false
                return false
            }
            return true
        }
        if more { scheduleBatch() }
        for (item, result) in zip(batch, results) {
            item.continuation.resume(with: result)
        }
    }

    /// `apply`, undone alone if it fails: in a savepoint when it has two statements (an
    /// open's `UPDATE` and `INSERT`); a single statement is undone by SQLite by itself.
    private static func applyAlone(_ write: Write, _ db: Database) throws -> Bool {
        guard case .open = write else { return try apply(write, db) }
        var outcome = false
        try db.inSavepoint {
            outcome = try apply(write, db)
            return .commit
        }
        return outcome
    }

    /// The statements of one write, the same as the one-by-one methods ran.
    static func apply(_ write: Write, _ db: Database) throws -> Bool {
        switch write {
        case .open(let grantID, let tokenHash, let maxViews, let at):
            let update = try db.cachedStatement(
                sql: """
                    UPDATE grants SET views = views + 1, first_opened_at = COALESCE(first_opened_at, ?), last_opened_at = ?
                    WHERE id = ? AND revoked_at IS NULL AND (? IS NULL OR views < ?)
                    """)
            let stamp = VaultDatabase.storageString(at)
            try update.execute(arguments: [stamp, stamp, grantID, maxViews, maxViews])
            guard db.changesCount == 1 else { return false }
            try VaultDatabase.insertAccessEvent(db, grantID: grantID, tokenHash: tokenHash, at: stamp, result: .opened)
            return true
        case .access(let grantID, let tokenHash, let at, let result):
            try VaultDatabase.insertAccessEvent(
                db, grantID: grantID, tokenHash: tokenHash, at: VaultDatabase.storageString(at), result: result)
            return true
        }
    }
}
