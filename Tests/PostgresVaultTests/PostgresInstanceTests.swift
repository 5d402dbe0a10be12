import Foundation
import RetractTestSupport
import Testing

/// The test cluster itself: what every PostgreSQL test of the vault stands on.
@Suite("A private PostgreSQL cluster for tests")
struct PostgresInstanceTests {
    @Test("Retract's role logs in over TCP with its password and owns its database; stop removes the cluster")
    func roleLogsInOverTCP() async throws {
        // Given a started cluster
        let stopped = try await PostgresInstance.withInstance { instance in
            // When a client connects with the instance's URL
            let answer = try instance.psql(
                "SELECT current_user, current_database(), (SELECT datdba::regrole FROM pg_database WHERE datname = current_database());",
                connectingTo: instance.url)

            // Then it is Retract's role in Retract's database, which it owns
            #expect(answer == "retract|retract|retract")
            #expect(instance.url.hasPrefix("postgres://retract:"))
            #expect(instance.url.hasSuffix("@127.0.0.1:\(instance.port)/retract?sslmode=disable"))

            return instance
        }

        // And after stop the folder is gone
        #expect(!FileManager.default.fileExists(atPath: stopped.directory.path))
    }

    @Test("A wrong password is refused: the cluster really checks SCRAM passwords")
    func wrongPasswordIsRefused() async throws {
        try await PostgresInstance.withInstance { instance in
            let wrong = "postgresql://retract:not-the-password@127.0.0.1:\(instance.port)/retract?sslmode=disable"
            #expect(throws: PostgresInstanceError.self) { try instance.psql("SELECT 1;", connectingTo: wrong) }
        }
    }

    @Test("The TLS cluster accepts only TLS, with a certificate libpq verifies (verify-full)")
    func tlsClusterNeedsTLS() async throws {
        try await PostgresInstance.withInstance(tls: true) { instance in
            let certificates = try #require(instance.certificates)

            let verified = try instance.psql(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();",
                connectingTo: instance.url)
            #expect(verified == "t")
            #expect(
                instance.url.contains(
                    "@localhost:\(instance.port)/retract?sslmode=verify-full&sslrootcert=\(certificates.caFile)"))

            // Without TLS the server has no pg_hba line for the client.
            let plain = instance.url(database: "retract", host: "127.0.0.1", sslmode: "disable")
            #expect(throws: PostgresInstanceError.self) {
                try instance.psql("SELECT 1;", connectingTo: plain)
            }
        }
    }
}
