import Foundation
import RetractCore
import RetractServer

extension ServeCommand {
    /// The HTTP connection limits the environment sets, each a one-line error naming the
    /// variable when it is not acceptable (docs/operations.md).
    static func connectionLimits() throws -> HTTPConnectionLimits {
        var limits = HTTPConnectionLimits()
        if let timeout = try timeout("RETRACT_HTTP_IDLE_TIMEOUT") { limits.idleTimeout = timeout }
        if let timeout = try timeout("RETRACT_HTTP_HEADER_TIMEOUT") { limits.headerTimeout = timeout }
        if let timeout = try timeout("RETRACT_HTTP_BODY_TIMEOUT") { limits.bodyTimeout = timeout }
        if let text = Environment.value("RETRACT_HTTP_MIN_BODY_RATE") {
            guard let rate = RetractConfiguration.byteSize(text) else {
                throw RetractError.invalidInput(
                    "RETRACT_HTTP_MIN_BODY_RATE \(text.debugDescription) is not a size per second; use bytes or a number with K or M, like 1K")
            }
            limits.minimumBodyRate = rate
        }
        if let count = try Environment.count("RETRACT_HTTP_MAX_CONNECTIONS", in: 1...1_000_000) {
            limits.maxConnections = count
        }
        if let count = try Environment.count("RETRACT_HTTP_MAX_CONNECTIONS_PER_CLIENT", in: 1...1_000_000) {
            limits.maxConnectionsPerClient = count
        }
        return limits
    }

    /// What a connection timeout may be: 1 second to a day.
    private static let connectionTimeoutBounds = DurationText.Bounds(
        minimum: 1, maximum: 86_400, maximumText: "1 day (1d)", minimumText: "1 second (1s)")

    /// A timeout of at least one second and at most a day.
    private static func timeout(_ name: String) throws -> Duration? {
        guard let text = Environment.value(name) else { return nil }
        return .seconds(try DurationText.seconds(text, option: name, bounds: connectionTimeoutBounds))
    }
}

/// What `retract serve` hands the server: its address, the connection limits and the
/// trusted proxies.
struct ServeArguments: ServerArguments {
    var host: String
    var port: Int
    var connectionLimits: HTTPConnectionLimits
    var clientAddresses: ClientAddressResolver
}
