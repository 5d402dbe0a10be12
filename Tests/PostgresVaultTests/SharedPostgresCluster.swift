import Foundation
import Logging
import PostgresVault
import RetractTestSupport
import Testing
import Vault

/// One PostgreSQL cluster for a whole suite (initdb and start cost about a second here),
/// with a fresh database per test, so the tests stay independent and may run in parallel.
///
/// Apply `.sharedPostgresCluster` to a suite; inside its tests `SharedPostgresCluster.vault`
/// and `twoNodes` give vaults on a new database of that cluster.
struct SharedPostgresCluster: SuiteTrait, TestScoping {
    /// Once around the suite, not around each test.
    var isRecursive: Bool { false }

    @TaskLocal static var instance: PostgresInstance?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await PostgresInstance.withInstance { instance in
            try await Self.$instance.withValue(instance) { try await function() }
        }
    }

    static let logger = Logger(label: "retract.tests.postgres-vault")
    /// How long the tests' pools wait for a connection: the 5 s default is a production
    /// choice (fail fast when the server is gone); on a 2-core machine running the whole
    /// suite, 20 concurrent opens once waited longer than that for their connections.
    static let leaseTimeout: Duration = .seconds(60)

    /// A new empty database of the suite's cluster; its URL.
    static func freshDatabase() async throws -> DatabaseURL {
        let instance = try #require(instance, "the suite needs the .sharedPostgresCluster trait")
        let name = "t" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        // psql is a process: started off Swift's few cooperative threads.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread { continuation.resume(with: Result { try instance.createDatabase(name) }) }
        }
        return try DatabaseURL(instance.url(database: name))
    }

    /// Runs `body` with a vault on a fresh database, closed afterwards (also when it throws).
    @discardableResult
    static func vault<T: Sendable>(_ body: (PostgresVaultDatabase) async throws -> T) async throws -> T {
        let vault = try await PostgresVaultDatabase.open(try await freshDatabase(), leaseTimeout: leaseTimeout, logger: logger)
        do {
            let result = try await body(vault)
            await vault.close()
            return result
        } catch {
            await vault.close()
            throw error
        }
    }

    /// Runs `body` with two vaults ("nodes": two pools) on one fresh database.
    @discardableResult
    static func twoNodes<T: Sendable>(_ body: (PostgresVaultDatabase, PostgresVaultDatabase) async throws -> T)
        async throws -> T
    {
        let url = try await freshDatabase()
        let a = try await PostgresVaultDatabase.open(url, leaseTimeout: leaseTimeout, logger: logger)
        let b: PostgresVaultDatabase
        do {
            b = try await PostgresVaultDatabase.open(url, leaseTimeout: leaseTimeout, logger: logger)
        } catch {
            await a.close()
            throw error
        }
        do {
            let result = try await body(a, b)
            await a.close()
            await b.close()
            return result
        } catch {
            await a.close()
            await b.close()
            throw error
        }
    }
}

extension Trait where Self == SharedPostgresCluster {
    /// One PostgreSQL cluster for the suite, a fresh database per test.
    static var sharedPostgresCluster: Self { SharedPostgresCluster() }
}
