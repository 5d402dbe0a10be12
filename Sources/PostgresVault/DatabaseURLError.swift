/// A database URL that cannot be used, and how to fix it, in one line.
///
/// The message names the part of the URL that is wrong and never repeats the URL itself,
/// so a password in it cannot reach a log or a terminal through an error.
public struct DatabaseURLError: Error, Equatable, CustomStringConvertible {
    /// The one-line explanation.
    public let description: String

    private init(_ description: String) { self.description = "database URL: " + description }

    static let notAURL = Self("not a URL; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full")
    static func unsupportedScheme(_ scheme: String) -> Self {
        Self("scheme \"\(scheme)\" is not supported; use postgres:// or postgresql://")
    }
    static let fragment = Self("a #fragment is not allowed (percent-encode # in a password as %23)")
    static let missingUser = Self("names no user; expected postgres://USER:PASSWORD@HOST/DATABASE")
    static let missingHost = Self("names no host; expected postgres://USER:PASSWORD@HOST/DATABASE")
    static let badPort = Self("the port is not a number from 1 to 65535")
    static let missingDatabase = Self("names no database; expected postgres://USER:PASSWORD@HOST/DATABASE")
    static let badDatabase = Self("the database name must not contain \"/\"")
    static func repeatedParameter(_ name: String) -> Self { Self("parameter \(name) is given twice") }
    static func unsupportedTLSMode(_ mode: String) -> Self {
        Self(
            "sslmode=\(mode) is not supported; use verify-full (the default), require, or disable "
                + "(allow and prefer fall back to plaintext silently, verify-ca does not check the host name)")
    }
    static let emptyRootCertificate = Self("sslrootcert is empty; give the path of the CA certificate (PEM)")
    static func unknownParameter(_ name: String) -> Self {
        Self("unknown parameter \(name); the supported ones are sslmode and sslrootcert")
    }
    static let rootCertificateWithoutVerification = Self(
        "sslrootcert is only used with sslmode=verify-full; add it or remove sslrootcert")
    static func unreadableRootCertificate(_ path: String) -> Self {
        Self("sslrootcert \(path) cannot be read; check the path and its permissions")
    }
    static func notPEM(_ path: String) -> Self { Self("sslrootcert \(path) holds no PEM certificate") }
    static let tlsSetUp = Self("TLS could not be set up with these settings")
}
