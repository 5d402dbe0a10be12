import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL vault lives: `RETRACT_DATABASE_URL` / `--database-url`, parsed and
/// checked once at start-up so a wrong URL is one clear line, not a failure mid-request.
///
/// The form is libpq's, restricted to what Retract supports:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE[&sslrootcert=PATH]]`
/// (`postgresql://` too; user and password percent-encoded). `sslmode` is `disable`,
/// `require` (encrypted, server not authenticated) or `verify-full` (the default: the
/// server's certificate must chain to `sslrootcert`, or to the system's roots without it,
/// and name HOST). libpq's `allow` and `prefer` are refused, because they fall back to
/// plaintext without saying so; `verify-ca` is refused, because it does not check the name.
///
/// The password is kept for the connection and appears nowhere else: not in `description`,
/// not in any error.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected (libpq's `sslmode`).
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP: only for a database on the same host or a private network.
        case disable
        /// TLS without authenticating the server (protects against passive eavesdropping only).
        case require
        /// TLS, the certificate verified against the CA and the host name.
        case verifyFull = "verify-full"
    }

    /// The server's host name or IP address.
    public let host: String
    /// The server's TCP port (5432 unless the URL says otherwise).
    public let port: Int
    /// The role Retract logs in as.
    public let user: String
    /// The database holding the vault.
    public let database: String
    /// How the connection is protected.
    public let tlsMode: TLSMode
    /// The CA certificates (PEM) that verify the server under `verify-full`; nil for the
    /// system's trust roots.
    public let rootCertificatePath: String?
    /// The role's password; nil when the server needs none (e.g. `trust` on a socket).
    let password: String?

    /// Parses and checks `string`; throws one line naming what is wrong (never its password).
    public init(_ string: String) throws(DatabaseURLError) {
        // Parsed by hand around URLComponents: it returns nil for a bad port without saying why.
        guard let schemeEnd = string.range(of: "://") else { throw .notAURL }
        let scheme = string[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw .unsupportedScheme(String(scheme.prefix(20)))
        }
        guard let components = URLComponents(string: "postgres://" + string[schemeEnd.upperBound...]) else {
            throw Self.diagnose(String(string[schemeEnd.upperBound...]))
        }
        guard components.fragment == nil else { throw .fragment }
        guard let user = components.user, !user.isEmpty else { throw .missingUser }
        guard var host = components.host, !host.isEmpty else { throw .missingHost }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw .badPort }
        let path = components.path
        let database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !database.isEmpty else { throw .missingDatabase }
        guard !database.contains("/") else { throw .badDatabase }

        var tlsMode = TLSMode.verifyFull
        var rootCertificatePath: String?
        var seen = Set<String>()
        for item in components.queryItems ?? [] {
            guard seen.insert(item.name).inserted else { throw .repeatedParameter(item.name) }
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else { throw .unsupportedTLSMode(String(value.prefix(20))) }
                tlsMode = mode
            case "sslrootcert":
                guard !value.isEmpty else { throw .emptyRootCertificate }
                rootCertificatePath = value
            default:
                throw .unknownParameter(String(item.name.prefix(30)))
            }
        }
        if rootCertificatePath != nil && tlsMode != .verifyFull { throw .rootCertificateWithoutVerification }

        self.host = host
        self.port = port
        self.user = user
        self.password = components.password
        self.database = database
        self.tlsMode = tlsMode
        self.rootCertificatePath = rootCertificatePath
    }

    /// The URL without its password, for logs and `retract status`.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var text = "postgres://\(user)@\(shownHost):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
        if let rootCertificatePath { text += "&sslrootcert=\(rootCertificatePath)" }
        return text
    }

    /// The TLS settings for `tlsMode`: nil for `disable`; for `verify-full`, full
    /// verification against `rootCertificatePath` (read now, so a missing or unreadable file
    /// is a start-up error) or the system's roots.
    public func tlsConfiguration() throws(DatabaseURLError) -> TLSConfiguration? {
        switch tlsMode {
        case .disable:
            return nil
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return configuration
        case .verifyFull:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            if let rootCertificatePath {
                guard FileManager.default.isReadableFile(atPath: rootCertificatePath) else {
                    throw .unreadableRootCertificate(rootCertificatePath)
                }
                let certificates: [NIOSSLCertificate]
                do {
                    certificates = try NIOSSLCertificate.fromPEMFile(rootCertificatePath)
                } catch {
                    throw .notPEM(rootCertificatePath)
                }
                guard !certificates.isEmpty else { throw .notPEM(rootCertificatePath) }
                configuration.trustRoots = .certificates(certificates)
            }
            return configuration
        }
    }

    /// The settings of a PostgresNIO connection pool for this URL.
    public func clientConfiguration() throws(DatabaseURLError) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = try tlsConfiguration().map { .require($0) } ?? .disable
        return PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// The settings of one PostgresNIO connection for this URL (the migrator's, for example).
    public func connectionConfiguration() throws(DatabaseURLError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if let configuration = try tlsConfiguration() {
            do {
                tls = .require(try NIOSSLContext(configuration: configuration))
            } catch {
                throw .tlsSetUp
            }
        } else {
            tls = .disable
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// Names what URLComponents could not parse, without echoing the input (which holds the
    /// password).
    private static func diagnose(_ rest: String) -> DatabaseURLError {
        let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let hostPart = authority.split(separator: "@").last ?? ""
        if let colon = hostPart.lastIndex(of: ":"), !hostPart.hasSuffix("]") {
            let port = hostPart[hostPart.index(after: colon)...]
            if port.isEmpty || Int(port) == nil { return .badPort }
        }
        return .notAURL
    }
}
