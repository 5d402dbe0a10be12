import Foundation

/// A throwaway CA and a server certificate signed by it, made with `openssl` in a temporary
/// directory at test time (no key is ever committed). Debian's `openssl` package provides it.
public struct SMTPTestCertificates: Sendable {
    /// The CA certificate (PEM), to pass as the CA file.
    public let caFile: String
    /// The server certificate (PEM).
    public let certificateFile: String
    /// The server key (PEM).
    public let keyFile: String

    /// Makes a CA and a server certificate for `subjectAltName` in `directory`.
    public init(in directory: URL, subjectAltName: String = "DNS:localhost,IP:127.0.0.1") throws {
        let dir = directory.appendingPathComponent("certs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(
            ["req", "-x509"] + curve + [
                "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=Retract Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        try Self.openssl(
            ["req"] + curve + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"])
        try "subjectAltName=\(subjectAltName)\nextendedKeyUsage=serverAuth\n".write(
            toFile: path("ext.cnf"), atomically: true, encoding: .utf8)
        try Self.openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path("server.pem"), "-days", "2", "-extfile", path("ext.cnf"),
        ])
        self.caFile = path("ca.pem")
        self.certificateFile = path("server.pem")
        self.keyFile = path("server.key")
    }

    /// The sink options that serve this certificate.
    public var sinkOptions: [String] { ["--cert", self.certificateFile, "--key", self.keyFile] }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.runSafely()
        let log = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SMTPSink.SinkError(
                "openssl \(arguments.first ?? "") failed (install Debian's openssl): "
                    + String(decoding: log.suffix(400), as: UTF8.self))
        }
    }
}
