import Logging
import RetractCore
import ServiceLifecycle

/// Runs the outbox worker beside the HTTP server: every second it delivers what has come
/// due (held notifications whose undo window has passed, retries) and retries a WAL
/// checkpoint a revocation owes; once an hour (and at start) it prunes the access log and
/// truncates the WAL (`RetractService.runMaintenance()`).
struct OutboxDeliveryService: Service {
    let service: RetractService
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var maintenanceDue = clock.now
            while !Task.isCancelled {
                if clock.now >= maintenanceDue {
                    service.runMaintenance()
                    maintenanceDue = clock.now.advanced(by: RetractService.maintenanceInterval)
                }
                let run = await service.deliverDueMail()
                service.settleOwedCheckpoint()
                if run != DeliveryRun() {
                    service.logger.info(
                        "outbox pass",
                        metadata: ["delivered": "\(run.delivered)", "deferred": "\(run.deferred)", "failed": "\(run.failed)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
        // Say QUIT on the way out rather than let the relay see connections drop.
        await service.transport.closeConnections()
    }
}
