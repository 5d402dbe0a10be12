import Logging
import RetractCore
import ServiceLifecycle

/// Runs the outbox worker beside the HTTP server: every second it delivers what has come
/// due (held notifications whose undo window has passed, retries).
struct OutboxDeliveryService: Service {
    let service: RetractService
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let run = await service.deliverDueMail()
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
