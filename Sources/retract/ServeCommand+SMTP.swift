import Foundation
import Gateway
import Logging
import RetractCore
import SMTP
import ServiceLifecycle

extension ServeCommand {
    /// The SMTP gateway `retract serve` runs beside the HTTP server when `--smtp-listen` or
    /// `RETRACT_SMTP_LISTEN` names an address; nil when neither does (the gateway is off).
    ///
    /// Settings (docs/gateway.md): `RETRACT_MAX_MESSAGE` (default 50M), `RETRACT_SMTP_TRUSTED`
    /// (CIDRs, default 127.0.0.0/8 and ::1), `RETRACT_SMTP_TLS_CERT` / `_KEY` (STARTTLS).
    static func smtpGateway(
        listen: String?, service: RetractService, logger: Logger
    ) throws -> SMTPServer? {
        guard let listen = listen ?? Environment.value("RETRACT_SMTP_LISTEN") else { return nil }
        let (host, port) = try listenAddress(listen)
        var configuration = SMTPServerConfiguration(
            host: host, port: port, hostname: Self.gatewayHostName(service),
            spoolDirectory: service.configuration.dataDirectory.appendingPathComponent("smtp-spool"))
        // Replies to receipts' recall addresses are taken from anyone (the address is the
        // capability); whether one is known is answered after DATA (550 when not).
        let recallDomain = service.configuration.effectiveRecallDomain
        configuration.localRecipient = { RecallAddress.isRecallAddress($0, domain: recallDomain) }
        if let text = Environment.value("RETRACT_MAX_MESSAGE") {
            guard let bytes = RetractConfiguration.byteSize(text) else {
                throw RetractError.invalidInput(
                    "RETRACT_MAX_MESSAGE \(text.debugDescription) is not a size; use bytes or a number with K, M or G, like 50M")
            }
            configuration.maximumMessageSize = Int64(bytes)
        }
        if let text = Environment.value("RETRACT_SMTP_TRUSTED") {
            var networks: [SMTPNetwork] = []
            for item in text.split(separator: ",") {
                do {
                    networks.append(try SMTPNetwork(item.trimmingCharacters(in: .whitespaces)))
                } catch {
                    throw RetractError.invalidInput(
                        "RETRACT_SMTP_TRUSTED \(String(item).debugDescription) is not a network; use CIDRs like 127.0.0.0/8, ::1/128")
                }
            }
            configuration.trustedNetworks = networks
        }
        switch (Environment.value("RETRACT_SMTP_TLS_CERT"), Environment.value("RETRACT_SMTP_TLS_KEY")) {
        case (let certificate?, let key?):
            configuration.tls = .init(certificateChainPath: certificate, privateKeyPath: key)
        case (nil, nil):
            break
        default:
            throw RetractError.invalidInput("RETRACT_SMTP_TLS_CERT and RETRACT_SMTP_TLS_KEY go together; set both or neither")
        }
        do {
            return try SMTPServer(
                configuration: configuration, acceptor: GatewayAcceptor(service: service, logger: logger),
                logger: logger)
        } catch {
            throw RetractError.invalidInput("--smtp-listen: \(error)")
        }
    }

    /// `HOST:PORT` (`127.0.0.1:10025`, `[::1]:10025`) as host and port.
    static func listenAddress(_ text: String) throws -> (String, Int) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw RetractError.invalidInput(
                "--smtp-listen \(text.debugDescription) is not an address; use HOST:PORT, like 127.0.0.1:10025")
        }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw RetractError.invalidInput("--smtp-listen \(text.debugDescription) names no host; use HOST:PORT")
        }
        return (host, port)
    }

    /// The name the gateway announces: the host of the service address.
    static func gatewayHostName(_ service: RetractService) -> String {
        let address = service.configuration.serviceAddress
        guard let at = address.lastIndex(of: "@") else { return "retract" }
        let domain = address[address.index(after: at)...].filter { $0 != ">" }
        return domain.isEmpty ? "retract" : String(domain)
    }
}
