import Foundation
import Vault

extension RetractService {
    /// How often `retract serve` runs `runMaintenance()`.
    public static let maintenanceInterval: Duration = .seconds(3600)

    /// The outbox worker's housekeeping on every pass: an owed WAL checkpoint (a revocation
    /// whose TRUNCATE stayed busy) is tried again; cheap when none is owed (one atomic read).
    public func settleOwedCheckpoint() {
        vault.settleOwedCheckpoint()
    }

    /// Hourly housekeeping of `retract serve`: prunes the access log, then runs a TRUNCATE
    /// checkpoint (best effort, bounded), which also moves out of the WAL the frames of a
    /// revocation committed by another process (`retract revoke`) whose checkpoint stayed
    /// busy. Failures are logged, never thrown: the next hour tries again.
    public func runMaintenance() {
        do {
            try pruneAccessLog()
        } catch {
            logger.error("could not prune the access log", metadata: ["error": "\(error)"])
        }
        do {
            try vault.checkpointTruncating()
        } catch {
            logger.warning("could not truncate the vault's WAL", metadata: ["error": "\(error)"])
        }
    }

    /// Deletes the access-log rows of failed and refused opens older than the retention
    /// (`RETRACT_ACCESS_LOG_RETENTION`, never less than the failure windows the limits count
    /// over); successful opens and downloads stay for the report. Returns how many it deleted.
    @discardableResult
    public func pruneAccessLog() throws -> Int {
        let retention = max(configuration.accessLogRetention, Self.failureWindow, Self.openClientWindow)
        let deleted = try vault.pruneAccessLog(failuresBefore: now().addingTimeInterval(-retention))
        if deleted > 0 { logger.info("access log pruned", metadata: ["rows": "\(deleted)"]) }
        return deleted
    }
}
