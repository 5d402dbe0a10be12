import Foundation
import Logging
import NIOCore
import PostgresNIO
import Vault

/// The vault on PostgreSQL: a pool of connections to one database that several
/// `retract serve` nodes share, offering the operations of `VaultDatabase` (same names,
/// same meaning, the same record types), `async` throughout.
///
/// `open` checks the URL's server once on a connection of its own, brings the schema up to
/// date there (`PostgresMigrations.vault`, safe when nodes start together), and then starts
/// the `PostgresClient` pool in a task of its own; `close` shuts the pool down and waits for
/// it. A server that cannot be reached is one line at start-up (`PostgresVaultError`,
/// `isUnavailable`), never the URL's password.
///
/// What makes it safe for several nodes: outbox claims skip rows another node holds
/// (`FOR UPDATE SKIP LOCKED`), rate-limit reservations count and insert under an advisory
/// lock of their scope and subject, a revocation locks its message row first, and an open
/// is counted only by an `UPDATE … WHERE revoked_at IS NULL`, so it is refused on every node
/// once a revoke committed.
public final class PostgresVaultDatabase: Sendable {
    /// The pool every operation leases a connection from.
    let client: PostgresClient
    /// Where the database is, without its password (for errors and logs).
    let endpoint: String
    /// The logger handed to PostgresNIO for each query.
    let logger: Logger
    /// The task that runs the pool (`PostgresClient.run()`); cancelled by `close`.
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, endpoint: String, logger: Logger) {
        self.client = client
        self.endpoint = endpoint
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    /// Connects to the database `url` names, migrates its schema, and starts a pool of at
    /// most `maximumConnections` connections.
    ///
    /// Throws one line: `isUnavailable` when the server cannot be reached, a refusal with
    /// the server's reason (a wrong password, a missing database), a migration that cannot
    /// run (a schema newer than this binary), or a URL whose TLS settings cannot be used.
    public static func open(
        _ url: DatabaseURL, maximumConnections: Int = 20, logger: Logger = Logger(label: "retract.vault.postgres")
    ) async throws -> PostgresVaultDatabase {
        let endpoint = "\(url.host.contains(":") ? "[\(url.host)]" : url.host):\(url.port)/\(url.database)"
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: try url.connectionConfiguration(),
                id: 0, logger: logger
            ).get()
        } catch let error as DatabaseURLError {
            throw error
        } catch {
            throw PostgresVaultError.from(error, step: "connecting", endpoint: endpoint)
        }
        do {
            try await PostgresMigrations.vault.migrate(connection, logger: logger)
        } catch {
            try? await connection.close()
            throw PostgresVaultError.migrationFailed(error)
        }
        try? await connection.close()

        var configuration = try url.clientConfiguration()
        configuration.options.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return PostgresVaultDatabase(client: client, endpoint: endpoint, logger: logger)
    }

    /// Shuts the pool down (its connections are closed once their leases end) and waits for it.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// Whether the database answers now (`SELECT 1` on a pooled connection), for `/healthz`.
    public func isReachable() async -> Bool {
        (try? await withConnection("checking the database") { connection in
            try await connection.query("SELECT 1", logger: logger)
        }) != nil
    }

    // MARK: Connections and transactions

    /// Runs `body` on a pooled connection; errors of the database as `PostgresVaultError`.
    @discardableResult
    func withConnection<T: Sendable>(_ step: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw PostgresVaultError.from(error, step: step, endpoint: endpoint)
        }
    }

    /// Runs `body` between BEGIN and COMMIT on a pooled connection (ROLLBACK when it
    /// throws), so it is stored whole or not at all; errors as in `withConnection`.
    @discardableResult
    func transaction<T: Sendable>(_ step: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection(step) { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The rows of `query`, each as random-access (columns by name), collected.
    static func rows(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws
        -> [PostgresRandomAccessRow]
    {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }
}
