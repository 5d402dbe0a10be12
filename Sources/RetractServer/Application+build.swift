import Hummingbird
import Logging
import RetractCore

/// Builds the router: the reader routes, static files and health.
public func buildRouter(service: RetractService) async throws -> Router<BasicRequestContext> {
    let pages = try await PageRenderer.load()
    let assets = try StaticAssets.load()
    let router = Router()
    router.add(middleware: SecurityHeadersMiddleware())
    router.get("healthz") { _, _ -> Response in
        JSONResponse.make(.ok, ["status": "ok"])
    }
    assets.addRoutes(to: router)
    router.addRoutes(ReaderController(service: service, pages: pages).endpoints, atPath: "/m")
    return router
}

/// Builds the whole application: HTTP server plus the outbox worker.
public func buildApplication(
    _ arguments: some ServerArguments, service: RetractService, logger: Logger = Logger(label: "retract"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let router = try await buildRouter(service: service)
    return Application(
        router: router,
        configuration: .init(address: .hostname(arguments.host, port: arguments.port), serverName: "retract"),
        services: [OutboxDeliveryService(service: service, interval: .seconds(1))],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? arguments.port) },
        logger: logger)
}
