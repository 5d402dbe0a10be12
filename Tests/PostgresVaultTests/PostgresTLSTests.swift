import Foundation
import Logging
import PostgresNIO
import PostgresVault
import RetractTestSupport
import Testing

/// `sslmode=verify-full` against a real TLS cluster: the right CA and host name connect,
/// anything else is refused before a password is sent.
@Suite("PostgreSQL over TLS")
struct PostgresTLSTests {
    static let logger = Logger(label: "retract.tests.postgres-tls")

    @Test("verify-full with the right CA and host name connects over TLS, and the migrations run over it")
    func verifyFullConnects() async throws {
        try await PostgresInstance.withInstance(tls: true) { instance in
            let url = try DatabaseURL(instance.url)
            #expect(url.tlsMode == .verifyFull && url.host == "localhost")
            let connection = try await Self.connect(url)
            let ssl = try await connection.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: Self.logger
            ).collect().first?.decode(Bool.self)
            #expect(ssl == true)
            let applied = try await PostgresMigrations.vault.migrate(connection, logger: Self.logger)
            #expect(applied.count == PostgresMigrations.vault.migrations.count)
            try await connection.close()
        }
    }

    @Test("verify-full with another CA is refused")
    func wrongCAIsRefused() async throws {
        try await PostgresInstance.withInstance(tls: true) { instance in
            let other = try SMTPTestCertificates(in: instance.directory)
            let url = try DatabaseURL(instance.url(database: "retract", rootCertificate: other.caFile))
            await #expect {
                try await Self.connect(url).close()
            } throws: { error in
                Self.tlsFailure(error).contains("CERTIFICATE_VERIFY_FAILED")
            }
        }
    }

    @Test("verify-full to a host name the certificate does not name is refused")
    func wrongHostNameIsRefused() async throws {
        // The certificate names DNS:localhost only; 127.0.0.1 is the same server by another name.
        try await PostgresInstance.withInstance(tls: true) { instance in
            let url = try DatabaseURL(instance.url(database: "retract", host: "127.0.0.1"))
            #expect(url.tlsMode == .verifyFull)
            await #expect {
                try await Self.connect(url).close()
            } throws: { error in
                Self.tlsFailure(error).contains("failedToValidateHostname")
            }
        }
    }

    @Test("require encrypts without checking the certificate; disable is refused by a TLS-only server")
    func requireAndDisable() async throws {
        try await PostgresInstance.withInstance(tls: true) { instance in
            let require = try DatabaseURL(instance.url(database: "retract", host: "127.0.0.1", sslmode: "require"))
            let connection = try await Self.connect(require)
            try await connection.close()

            let disable = try DatabaseURL(instance.url(database: "retract", host: "127.0.0.1", sslmode: "disable"))
            await #expect {
                try await Self.connect(disable).close()
            } throws: { error in
                // 28000: invalid_authorization_specification (no pg_hba.conf line without TLS).
                (error as? PSQLError)?.serverInfo?[.sqlState] == "28000"
            }
        }
    }

    /// What made the TLS handshake fail, or "" when the connection failed for another reason.
    static func tlsFailure(_ error: any Error) -> String {
        guard let error = error as? PSQLError, error.code == .connectionError, let underlying = error.underlying else {
            return ""
        }
        return String(describing: underlying)
    }

    static func connect(_ url: DatabaseURL) async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: url.connectionConfiguration(), id: 1, logger: logger)
    }
}
