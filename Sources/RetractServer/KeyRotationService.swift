import Foundation
import Logging
import RetractCore
import ServiceLifecycle

/// Runs scheduled master-key rotation beside the outbox worker (`RETRACT_KEY_ROTATION`):
/// at start and then every `checkInterval` it asks `RetractService.runKeyMaintenance(every:)`
/// to rotate when the active key is older than `interval` (or a rotation is unfinished) and
/// to retire the keys that nothing needs any more.
///
/// Whether a rotation is due is read from the active key's id (its creation time), so a
/// restart neither rotates early nor forgets a rotation that was due.
public struct KeyRotationService: Service {
    let service: RetractService
    let interval: TimeInterval
    let checkInterval: Duration

    /// A rotation every `interval` seconds, checked every minute (or every half `interval`
    /// when that is shorter, at least every second).
    public init(service: RetractService, interval: TimeInterval) {
        self.service = service
        self.interval = interval
        let seconds = min(60, max(1, interval / 2))
        self.checkInterval = .milliseconds(Int64(seconds * 1000))
    }

    /// Runs turns until graceful shutdown; a failed turn is logged and the next one retries.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let turn = await service.runKeyMaintenance(every: interval)
                if let rotation = turn.rotation {
                    service.logger.info(
                        "scheduled key rotation",
                        metadata: [
                            "kid": "\(rotation.kid)", "resealed": "\(rotation.resealed)",
                            "remaining": "\(rotation.remaining)",
                        ])
                }
                for kid in turn.retired {
                    service.logger.info("scheduled key retirement", metadata: ["kid": "\(kid)"])
                }
                try? await Task.sleep(for: checkInterval)
            }
        }
    }
}
