import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import RetractCore
import ServiceLifecycle

/// Builds the router: the reader routes, the sender API under `/api/v1`, static files,
/// `/healthz` and `/readyz`, and the dev mailbox when `devMailbox` names the file outbox folder.
///
/// Both the API and the web app take their upload limit from `service.configuration`
/// (`maxUploadSize`, `RETRACT_MAX_UPLOAD`); `apiUploadLimit` overrides it for the API (tests).
/// `web` configures the sender web app under `/app`; nil takes the defaults. `clientAddresses`
/// decides the client address every per-client limit counts (the TCP peer unless it names
/// trusted proxies); `readiness` answers `/readyz` (a probe of `service`'s vault by default).
/// `metrics` counts every request and serves `/metrics` here unless it names its own address.
public func buildRouter(
    service: RetractService, devMailbox: URL? = nil, apiUploadLimit: Int? = nil, web: WebAppOptions? = nil,
    clientAddresses: ClientAddressResolver = ClientAddressResolver(), readiness: ReadinessProbe? = nil,
    metrics: MetricsExport? = nil
) async throws -> Router<RetractRequestContext> {
    let pages = try await PageRenderer.load()
    let assets = try StaticAssets.load()
    let router = Router(context: RetractRequestContext.self)
    router.add(middleware: RequestObserverMiddleware(metrics: metrics?.metrics))
    router.add(middleware: SecurityHeadersMiddleware(publicURL: service.configuration.publicURL))
    if clientAddresses.trustsProxies {
        router.add(middleware: ClientAddressMiddleware(resolver: clientAddresses))
    }
    // Liveness: the process answers. Its body is unchanged since the first release (load
    // balancers and the bench match it).
    router.get("healthz") { _, _ -> Response in
        JSONResponse.make(.ok, ["status": "ok"])
    }
    // Readiness: the vault answers a trivial read in time.
    let probe = readiness ?? ReadinessProbe(service: service)
    router.get("readyz") { _, _ -> Response in
        ReadinessProbe.response(await probe.outcome())
    }
    if let metrics, metrics.listen == nil { metrics.addRoute(to: router, service: service) }
    assets.addRoutes(to: router)
    router.addRoutes(ReaderController(service: service, pages: pages).endpoints, atPath: "/m")
    router.addRoutes(
        WebController(service: service, renderer: pages, options: web ?? WebAppOptions()).endpoints, atPath: "/app")
    APIController(service: service, uploadLimit: apiUploadLimit ?? service.configuration.maxUploadSize)
        .register(on: router)
    if let devMailbox {
        router.addRoutes(DevMailboxController(directory: devMailbox, pages: pages).endpoints, atPath: "/dev/mailbox")
    }
    return router
}

/// The folder the dev mailbox shows, or nil when it must not exist: it shows personal
/// links, so only with the file outbox and a loopback bind.
public func devMailboxDirectory(_ configuration: RetractConfiguration, host: String) -> URL? {
    let isLoopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
    return configuration.smtpURL == nil && isLoopback ? configuration.outboxDirectory : nil
}

/// Builds the whole application: HTTP server plus the outbox worker, and
/// `additionalServices` (the SMTP gateway of `retract serve --smtp-listen`) in the same
/// service group, so they start together and shut down gracefully together.
///
/// The server runs under `arguments.connectionLimits`: idle, head and body deadlines and
/// the per-address cap on each connection, the total cap on accepting new ones. With
/// `metrics`, `/metrics` is on the public port, or alone on `metrics.listen` (a second
/// server in the same group; `onMetricsRunning` gets its port). `onServerRunning` comes
/// first of the two callbacks so that a trailing closure is the HTTP server's: a caller
/// waiting for that port must never be handed the metrics callback instead.
public func buildApplication(
    _ arguments: some ServerArguments, service: RetractService, logger: Logger = Logger(label: "retract"),
    additionalServices: [any Service] = [], metrics: MetricsExport? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    onMetricsRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let devMailbox = devMailboxDirectory(service.configuration, host: arguments.host)
    try service.releaseAllClaims()
    let router = try await buildRouter(
        service: service, devMailbox: devMailbox, clientAddresses: arguments.clientAddresses, metrics: metrics)
    var additionalServices = additionalServices
    if let metrics, let listen = metrics.listen {
        additionalServices.append(
            Application(
                router: metrics.router(service: service),
                configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "retract"),
                onServerRunning: { channel in await onMetricsRunning(channel.localAddress?.port ?? listen.port) },
                logger: logger))
    }
    let limits = arguments.connectionLimits
    return Application(
        router: router,
        server: .retract(limits),
        configuration: .init(
            address: .hostname(arguments.host, port: arguments.port), serverName: "retract",
            availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
        services: [OutboxDeliveryService(service: service, interval: .seconds(1))] + additionalServices,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? arguments.port) },
        logger: logger)
}
