import Foundation
import Logging
import PostgresVault
import RetractTestSupport
import Testing
import Vault

/// Opening the PostgreSQL vault: connect, migrate, pool, close; and the one line a node
/// prints when the database is not there.
@Suite("PostgreSQL vault: open and close", .sharedPostgresCluster)
struct PostgresVaultLifecycleTests {
    @Test("Open migrates a new database, answers on its pool, and closes; a second open finds nothing to migrate")
    func opensMigratesAndCloses() async throws {
        let url = try await SharedPostgresCluster.freshDatabase()
        let first = try await PostgresVaultDatabase.open(url, leaseTimeout: SharedPostgresCluster.leaseTimeout, logger: SharedPostgresCluster.logger)
        #expect(await first.isReachable())
        #expect(try await first.messages().isEmpty)
        await first.close()

        let second = try await PostgresVaultDatabase.open(url, leaseTimeout: SharedPostgresCluster.leaseTimeout, logger: SharedPostgresCluster.logger)
        #expect(try await second.pendingMail().isEmpty)
        await second.close()
        let instance = try #require(SharedPostgresCluster.instance)
        #expect(
            try instance.psql("SELECT count(*) FROM schema_migrations;", database: url.database)
                == String(PostgresMigrations.vault.migrations.count))
    }

    @Test("An unreachable server is one line: where, why, what to do; never the password")
    func unreachableServerIsOneLine() async throws {
        // A port nothing listens on: bound, then closed.
        let port = try PostfixInstance.freePort()
        let url = try DatabaseURL("postgres://retract:s3cret-pw@127.0.0.1:\(port)/vault?sslmode=disable")
        await #expect {
            _ = try await PostgresVaultDatabase.open(url, logger: SharedPostgresCluster.logger)
        } throws: { error in
            let text = "\(error)"
            guard let error = error as? PostgresVaultError else { return false }
            return error.isUnavailable && !text.contains("s3cret") && !text.contains("\n")
                && text.hasPrefix("the PostgreSQL vault at 127.0.0.1:\(port)/vault cannot be reached (")
                && text.contains("connection refused")
                && text.hasSuffix("check that the server runs and RETRACT_DATABASE_URL names it")
        }
    }

    @Test("A wrong password is refused with the server's reason, without the password")
    func wrongPasswordIsRefused() async throws {
        let instance = try #require(SharedPostgresCluster.instance)
        let url = try DatabaseURL("postgres://retract:not-the-password@127.0.0.1:\(instance.port)/retract?sslmode=disable")
        await #expect {
            _ = try await PostgresVaultDatabase.open(url, logger: SharedPostgresCluster.logger)
        } throws: { error in
            let text = "\(error)"
            guard let error = error as? PostgresVaultError else { return false }
            return !error.isUnavailable && !text.contains("not-the-password")
                && text.contains("password authentication failed for user \"retract\" (SQLSTATE 28P01)")
        }
    }

    @Test("The database going away mid-service: operations fail as unavailable within the lease timeout, nothing half-written, and work again once it is back")
    func databaseGoingAwayAndComingBack() async throws {
        let instance = try #require(SharedPostgresCluster.instance)
        let url = try await SharedPostgresCluster.freshDatabase()
        let vault = try await PostgresVaultDatabase.open(url, leaseTimeout: .seconds(2), logger: SharedPostgresCluster.logger)
        let message = VaultFixtures.message()
        try await vault.storeSealedMessage(message, grants: []) { _ in }

        // The database refuses new connections and its open ones are ended, as in a failover.
        try instance.psql(
            """
            ALTER DATABASE \(url.database) ALLOW_CONNECTIONS false;
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(url.database)';
            """)
        let mail = VaultFixtures.mail(messageID: message.id, kind: .report)
        await #expect {
            try await vault.queueMail([mail], at: VaultFixtures.now)
        } throws: { error in
            (error as? PostgresVaultError)?.isUnavailable == true && "\(error)".contains("cannot be reached")
        }
        #expect(await vault.isReachable() == false)

        try instance.psql("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS true;")
        // The pool reconnects in the background with a backoff; on a loaded machine that can
        // take longer than one 2-second lease, so wait (generously) until it answers again.
        let deadline = ContinuousClock.now + .seconds(60)
        while await !vault.isReachable(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await vault.pendingMail().isEmpty)  // the failed queueing wrote nothing
        try await vault.queueMail([mail], at: VaultFixtures.now)
        #expect(try await vault.pendingMail().map(\.id) == [mail.id])
        await vault.close()
    }

    @Test("A time written to PostgreSQL reads back equal to the same time read back from SQLite (milliseconds)")
    func timesMatchSQLite() async throws {
        let sqlite = try VaultDatabase.inMemory()
        try await SharedPostgresCluster.vault { postgres in
            // Sub-millisecond parts, whole milliseconds, before and after 2000, and now.
            var dates = [
                VaultFixtures.now, Date(timeIntervalSince1970: 1_796_299_200.0005), Date(timeIntervalSince1970: 0.999_9),
                Date(timeIntervalSince1970: 946_684_799.999_9), Date(timeIntervalSince1970: 946_684_800.000_4), Date(),
            ]
            for _ in 0..<200 { dates.append(Date(timeIntervalSince1970: .random(in: 0..<4_000_000_000))) }
            var mismatches: [String] = []
            for date in dates {
                let message = VaultFixtures.message(createdAt: date)
                try sqlite.storeSealedMessage(message, grants: []) { _ in }
                try await postgres.storeSealedMessage(message, grants: []) { _ in }
                let fromSQLite = try #require(try sqlite.message(id: message.id)).createdAt
                let fromPostgres = try #require(try await postgres.message(id: message.id)).createdAt
                if fromSQLite != fromPostgres {
                    mismatches.append(
                        "\(date.timeIntervalSince1970): sqlite \(fromSQLite.timeIntervalSince1970), postgres \(fromPostgres.timeIntervalSince1970)")
                }
            }
            #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        }
    }
}
