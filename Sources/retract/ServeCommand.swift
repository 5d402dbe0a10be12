import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RetractCore
import RetractServer
import ServiceLifecycle

/// `retract serve`: the reader pages, the API and the outbox worker.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP service and the outbox worker.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one and prints it).")
    var port: Int = 8080

    @Option(help: "Base of the links in mails (env RETRACT_PUBLIC_URL); defaults to this server's address.")
    var publicURL: String?

    @Option(help: "Run the SMTP gateway on HOST:PORT, e.g. 127.0.0.1:10025 (env RETRACT_SMTP_LISTEN; off when unset).")
    var smtpListen: String?

    @Option(
        help: "CIDRs of the load balancers whose X-Forwarded-For names the client (env RETRACT_TRUSTED_PROXIES; none).")
    var trustedProxies: String?

    @Option(help: "The header those proxies write: x-forwarded-for (default) or forwarded (env RETRACT_FORWARDED_HEADER).")
    var forwardedHeader: String?

    @Option(help: "Serve /metrics on HOST:PORT instead of the public port (env RETRACT_METRICS_LISTEN).")
    var metricsListen: String?

    func run() async throws {
        try await Console.run {
            var configuration = try global.configuration(publicURL: publicURL)
            if publicURL == nil && Environment.value("RETRACT_PUBLIC_URL") == nil {
                configuration.publicURL = "http://\(host):\(port)"
            }
            let logger = try CommandLogger.make(level: .info)
            let limits = try Self.connectionLimits()
            let clients = try Self.clientAddresses(trustedProxies: trustedProxies, forwardedHeader: forwardedHeader)
            let metrics = try Self.metricsExport(listen: metricsListen)
            let service = try RetractService.open(configuration, logger: logger)
            try service.checkKeysCoverVault()
            let host = self.host
            let arguments = ServeArguments(
                host: host, port: port, connectionLimits: limits, clientAddresses: clients)
            let gateway = try Self.smtpGateway(listen: smtpListen, service: service, logger: logger)
            let rotation = configuration.keyRotationInterval.map { KeyRotationService(service: service, interval: $0) }
            let additional: [any Service] = (gateway.map { [$0] } ?? []) + (rotation.map { [$0] } ?? [])
            let app = try await buildApplication(
                arguments, service: service, logger: logger, additionalServices: additional, metrics: metrics,
                onServerRunning: { port in
                    FileHandle.standardOutput.write(Data("retract: listening on http://\(host):\(port)\n".utf8))
                    if let gateway, let address = try? await gateway.listeningAddress() {
                        FileHandle.standardOutput.write(
                            Data("retract: SMTP gateway on \(address.ipAddress ?? host):\(address.port ?? 0)\n".utf8))
                    }
                },
                onMetricsRunning: { port in
                    let metricsHost = metrics.listen?.host ?? host
                    FileHandle.standardOutput.write(Data("retract: metrics on http://\(metricsHost):\(port)/metrics\n".utf8))
                })
            try await app.runService()
        }
    }
}

/// `retract deliver`: one pass of the outbox worker, then exit.
struct DeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver", abstract: "Deliver the mail that is due, once, and exit.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Console.run {
            let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
            let run = await service.deliverDueMail()
            await service.transport.closeConnections()
            Console.out("retract: delivered \(run.delivered), deferred \(run.deferred), failed \(run.failed)")
        }
    }
}
