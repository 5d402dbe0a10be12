import Foundation
import Logging
import Synchronization
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
    /// How long an operation waits for a pooled connection before it fails as unavailable.
    let leaseTimeout: Duration
    /// The task that runs the pool (`PostgresClient.run()`); cancelled by `close`.
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, endpoint: String, leaseTimeout: Duration, logger: Logger) {
        self.client = client
        self.endpoint = endpoint
        self.leaseTimeout = leaseTimeout
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    /// Connects to the database `url` names, migrates its schema, and starts a pool of at
    /// most `maximumConnections` connections.
    ///
    /// An operation that gets no pooled connection within `leaseTimeout` (the database went
    /// away, or every connection stayed busy that long) fails as `isUnavailable` instead of
    /// waiting: PostgresNIO's pool would hold it until its circuit breaker opens, a minute
    /// after the first failed connection attempt. The pool keeps reconnecting meanwhile, so
    /// operations succeed again as soon as the database is back.
    ///
    /// Throws one line: `isUnavailable` when the server cannot be reached, a refusal with
    /// the server's reason (a wrong password, a missing database), a migration that cannot
    /// run (a schema newer than this binary), or a URL whose TLS settings cannot be used.
    public static func open(
        _ url: DatabaseURL, maximumConnections: Int = 20, leaseTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "retract.vault.postgres")
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
        return PostgresVaultDatabase(client: client, endpoint: endpoint, leaseTimeout: leaseTimeout, logger: logger)
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
    ///
    /// The lease races a timer of `leaseTimeout`: whichever comes first wins (one atomic
    /// exchange), so either `body` runs on the connection and is never interrupted by the
    /// timer, or the operation fails as unavailable and `body` never starts.
    @discardableResult
    func withConnection<T: Sendable>(_ step: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await withoutActuallyEscaping(body) { body in
                // The child task runs `body` while this task waits for it: never two at once.
                let work = UncheckedSendable(body)
                let race = LeaseRace()
                let client = client
                let timeout = leaseTimeout
                return try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask {
                        try await client.withConnection { connection in
                            guard race.win(as: LeaseRace.leased)
                            else { throw LeaseTimedOut() }
                            return try await work.value(connection)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        guard race.win(as: LeaseRace.timedOut)
                        else { return nil }  // leased in time: the other task's result decides
                        throw LeaseTimedOut()
                    }
                    while let result = try await group.next() {
                        if let result {
                            group.cancelAll()
                            return result
                        }
                    }
                    throw LeaseTimedOut()
                }
            }
        } catch is LeaseTimedOut {
            throw PostgresVaultError.databaseUnavailable(endpoint, reason: "no connection within \(leaseTimeout)")
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
                do {
                    try await connection.query("ROLLBACK", logger: logger)
                } catch {
                    // A connection left inside a transaction must not go back to the pool.
                    try? await connection.close()
                }
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

/// One lease's race against its timer: the first to `win` decides.
private final class LeaseRace: Sendable {
    static let waiting = 0
    static let leased = 1
    static let timedOut = 2
    private let state = Atomic<Int>(LeaseRace.waiting)

    /// Moves from waiting to `outcome`; false when the other side already won.
    func win(as outcome: Int) -> Bool {
        state.compareExchange(expected: Self.waiting, desired: outcome, ordering: .acquiringAndReleasing).exchanged
    }
}

/// The timer won the race: no connection came within the lease timeout.
private struct LeaseTimedOut: Error {}

/// A value handed to a child task that runs while its parent only waits for it.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
