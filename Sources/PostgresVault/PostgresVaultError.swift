import Foundation
import NIOCore
import NIOPosix
import PostgresNIO
import Vault

/// A failure of the PostgreSQL vault, in one line that says what to do, without the
/// database URL's password (nor any bound value: a token hash, a sealed share).
///
/// `isUnavailable` separates "the database cannot be reached" (the server is down, the
/// network is gone, the pool gave up) from a statement the server refused: the first is a
/// 503 for the web and a 451 for the gateway, and goes away when the database is back.
public struct PostgresVaultError: Error, Equatable, CustomStringConvertible, Sendable {
    private enum Code: Equatable, Sendable {
        case databaseUnavailable
        case serverRefused
        case migrationFailed
        case statementFailed
        case partOutOfOrder
    }

    private let code: Code
    /// The one-line explanation.
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description.replacingOccurrences(of: "\n", with: " ")
    }

    /// Whether the database could not be reached (as opposed to refusing a statement).
    public var isUnavailable: Bool { code == .databaseUnavailable }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }

    /// The database at `endpoint` (host:port/database, never the URL) cannot be reached.
    static func databaseUnavailable(_ endpoint: String, reason: String) -> Self {
        Self(
            .databaseUnavailable,
            "the PostgreSQL vault at \(endpoint) cannot be reached (\(reason)); "
                + "check that the server runs and RETRACT_DATABASE_URL names it")
    }

    /// The server answered the connection with an error (a wrong password, no such database).
    static func serverRefused(_ endpoint: String, message: String, state: String?) -> Self {
        Self(
            .serverRefused,
            "the PostgreSQL server at \(endpoint) refused the connection: \(message)"
                + (state.map { " (SQLSTATE \($0))" } ?? "") + "; check the user, password and database in RETRACT_DATABASE_URL")
    }

    /// The schema could not be brought up to date (the migrator's own one line).
    static func migrationFailed(_ error: PostgresMigrationError) -> Self {
        Self(.migrationFailed, "the PostgreSQL vault's schema: \(error.description)")
    }

    /// A statement failed on the server: its SQLSTATE and message (which name no bound value).
    static func statementFailed(_ step: String, message: String, state: String?) -> Self {
        Self(.statementFailed, "\(step) failed on the PostgreSQL vault: \(message)" + (state.map { " (SQLSTATE \($0))" } ?? ""))
    }

    /// A sealed part's chunks were not written in order, or a part was begun twice or not finished.
    static func partOutOfOrder(messageID: String, part: Int, reason: String) -> Self {
        Self(.partOutOfOrder, "sealed part \(part) of message \(messageID): \(reason)")
    }

    /// Classifies an error of PostgresNIO (or of the connection under it) met during `step`.
    static func from(_ error: any Error, step: String, endpoint: String) -> any Error {
        if error is PostgresVaultError || error is VaultError { return error }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState]
                // Class 08 (connection exception), 57P01–03 (the server shutting down or
                // starting), 53 (out of resources: too many connections) are "unavailable".
                if let state, state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") {
                    return databaseUnavailable(endpoint, reason: message)
                }
                if step == "connecting" { return serverRefused(endpoint, message: message, state: state) }
                return statementFailed(step, message: message, state: state)
            }
            let connectionCodes: [PSQLError.Code] = [
                .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            ]
            if connectionCodes.contains(error.code) { return databaseUnavailable(endpoint, reason: reason(error)) }
            // TLS set-up, authentication mechanism, protocol: the connection cannot be used.
            if step == "connecting" { return serverRefused(endpoint, message: "\(error.code)", state: nil) }
            return statementFailed(step, message: "\(error.code)", state: nil)
        }
        if let error = error as? PostgresDecodingError {
            return statementFailed(step, message: "column \(error.columnName) does not decode", state: nil)
        }
        // The socket's failures, and the pool's own (shut down, no connection for a minute).
        if let error = error as? IOError { return databaseUnavailable(endpoint, reason: String(cString: strerror(error.errnoCode)).lowercased()) }
        if error is NIOConnectionError || error is ChannelError {
            return databaseUnavailable(endpoint, reason: String("\(error)".prefix(120)))
        }
        if String(describing: type(of: error)) == "ConnectionPoolError" {
            let text = "\(error)"
            let reason =
                text.contains("CircuitBreaker")
                ? "no connection could be made for a minute"
                : text.contains("poolShutdown") ? "the vault's connection pool is closed" : "the connection request was cancelled"
            return databaseUnavailable(endpoint, reason: reason)
        }
        // Anything else is the caller's own error (a sealer that failed): unchanged.
        return error
    }

    /// A short reason for a PSQLError without server information: the underlying socket
    /// error when there is one ("connection refused"), else its code.
    private static func reason(_ error: PSQLError) -> String {
        if let underlying = error.underlying {
            if let connection = underlying as? NIOConnectionError,
                let io = connection.connectionErrors.lazy.compactMap({ $0.error as? IOError }).first
            {
                return String(cString: strerror(io.errnoCode)).lowercased()
            }
            if let io = underlying as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
            return String("\(underlying)".prefix(120))
        }
        return "\(error.code)"
    }
}
