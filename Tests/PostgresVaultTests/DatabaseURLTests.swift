import Foundation
import PostgresVault
import Testing

/// `RETRACT_DATABASE_URL`: what is accepted, what is refused, and that the password never
/// shows.
@Suite("The database URL")
struct DatabaseURLTests {
    static let secret = "s3cr3t-Pa55"

    @Test("A full URL gives host, port, user, database and sslmode; the description hides the password")
    func fullURL() throws {
        let url = try DatabaseURL("postgres://retract:\(Self.secret)@db.example.org:6432/vault?sslmode=require")
        #expect(url.host == "db.example.org")
        #expect(url.port == 6432)
        #expect(url.user == "retract")
        #expect(url.database == "vault")
        #expect(url.tlsMode == .require)
        #expect(url.rootCertificatePath == nil)
        #expect(url.description == "postgres://retract@db.example.org:6432/vault?sslmode=require")
        #expect(!String(reflecting: url).contains(Self.secret))
        #expect(!"\(url)".contains(Self.secret))
    }

    @Test("postgresql:// is the same; the port defaults to 5432 and sslmode to verify-full")
    func defaults() throws {
        let url = try DatabaseURL("postgresql://retract@10.0.0.5/retract")
        #expect(url.port == 5432)
        #expect(url.tlsMode == .verifyFull)
        #expect(url.description == "postgres://retract@10.0.0.5:5432/retract?sslmode=verify-full")
    }

    @Test("Percent-encoded user and password are decoded; an IPv6 host loses its brackets")
    func percentEncodingAndIPv6() throws {
        let url = try DatabaseURL("postgres://re%40tract:p%2Fa%23ss@[::1]:5433/retract?sslmode=disable")
        #expect(url.user == "re@tract")
        #expect(url.host == "::1")
        #expect(url.description == "postgres://re@tract@[::1]:5433/retract?sslmode=disable")
    }

    @Test("verify-full takes the CA file from sslrootcert")
    func rootCertificate() throws {
        let url = try DatabaseURL(
            "postgres://retract:\(Self.secret)@localhost/retract?sslmode=verify-full&sslrootcert=/etc/retract/ca.pem")
        #expect(url.rootCertificatePath == "/etc/retract/ca.pem")
        #expect(url.description.hasSuffix("?sslmode=verify-full&sslrootcert=/etc/retract/ca.pem"))
    }

    @Test(
        "A bad URL is one line naming what is wrong, without the password",
        arguments: [
            ("mysql://retract:\(secret)@host/db", "scheme \"mysql\" is not supported"),
            ("retract:\(secret)@host/db", "not a URL"),
            ("postgres://:\(secret)@host/db", "names no user"),
            ("postgres://retract:\(secret)@/db", "names no host"),
            ("postgres://retract:\(secret)@host:99999/db", "port is not a number from 1 to 65535"),
            ("postgres://retract:\(secret)@host:54x2/db", "port is not a number from 1 to 65535"),
            ("postgres://retract:\(secret)@host", "names no database"),
            ("postgres://retract:\(secret)@host/", "names no database"),
            ("postgres://retract:\(secret)@host/a/b", "must not contain \"/\""),
            ("postgres://retract:\(secret)@host/db?sslmode=prefer", "sslmode=prefer is not supported"),
            ("postgres://retract:\(secret)@host/db?sslmode=allow", "sslmode=allow is not supported"),
            ("postgres://retract:\(secret)@host/db?sslmode=verify-ca", "sslmode=verify-ca is not supported"),
            ("postgres://retract:\(secret)@host/db?sslmode=require&sslmode=disable", "sslmode is given twice"),
            ("postgres://retract:\(secret)@host/db?connect_timeout=3", "unknown parameter connect_timeout"),
            (
                "postgres://retract:\(secret)@host/db?sslmode=require&sslrootcert=/ca.pem",
                "only used with sslmode=verify-full"
            ),
            ("postgres://retract:\(secret)@host/db?sslrootcert=", "sslrootcert is empty"),
            ("postgres://retract:\(secret)@host/db#x", "#fragment is not allowed"),
            ("postgres://retract:\(secret)@[::1/db", "not a URL"),
        ])
    func badURL(url: String, expected: String) {
        #expect {
            _ = try DatabaseURL(url)
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("database URL: ") && message.contains(expected) && !message.contains(Self.secret)
                && !message.contains("\n")
        }
    }

    @Test("sslrootcert must name a readable PEM file when the connection is set up")
    func rootCertificateFile() throws {
        let missing = try DatabaseURL("postgres://retract@localhost/retract?sslrootcert=/nonexistent/ca.pem")
        #expect {
            _ = try missing.clientConfiguration()
        } throws: { error in
            "\(error)"
                == "database URL: sslrootcert /nonexistent/ca.pem cannot be read; check the path and its permissions"
        }

        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-ca-\(UUID().uuidString).pem")
        try "hello".write(to: notPEM, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: notPEM) }
        let url = try DatabaseURL("postgres://retract@localhost/retract?sslrootcert=\(notPEM.path)")
        #expect {
            _ = try url.connectionConfiguration()
        } throws: { error in
            "\(error)".contains("holds no PEM certificate")
        }
    }

    @Test("disable gives no TLS; require gives TLS without verification; verify-full verifies")
    func tlsSettings() throws {
        #expect(try DatabaseURL("postgres://u@h/d?sslmode=disable").tlsConfiguration() == nil)
        let require = try #require(try DatabaseURL("postgres://u@h/d?sslmode=require").tlsConfiguration())
        #expect(require.certificateVerification == .none)
        let verify = try #require(try DatabaseURL("postgres://u@h/d").tlsConfiguration())
        #expect(verify.certificateVerification == .fullVerification)
    }
}
