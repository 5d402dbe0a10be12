import Foundation
import NIOCore
import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where and how `SMTPTransport` delivers: the server, the kind of encryption, the
/// credentials, the CA file, the EHLO name and the timeouts, parsed from an SMTP URL.
///
/// URL forms (`RETRACT_SMTP_URL` / `--smtp-url`):
/// - `smtp://host[:port]` — plain SMTP, port 25 by default; meant for a local relay;
/// - `smtp+starttls://host[:port]` — STARTTLS required (RFC 3207), port 587 by default: the
///   client never sends a password or a mail before TLS is up;
/// - `smtps://host[:port]` — TLS from the first byte (RFC 8314), port 465 by default.
///
/// `user:password@` before the host (percent-encoded where needed, e.g. `%40` for `@`)
/// makes the client authenticate with AUTH PLAIN or LOGIN (RFC 4954). Credentials over an
/// unencrypted connection are refused unless the host is loopback (`localhost`,
/// `127.0.0.0/8`, `::1`). The password never appears in `description` or in an error.
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    /// How the connection is protected.
    public enum Security: String, Sendable, Hashable {
        /// No TLS at all (`smtp://`).
        case plain
        /// Plain TCP, then STARTTLS before anything else; refusing servers that do not offer it (`smtp+starttls://`).
        case startTLS
        /// TLS from the first byte (`smtps://`).
        case implicitTLS
    }

    /// How long the client waits at each step before giving up on the connection.
    public struct Timeouts: Sendable, Hashable {
        /// Establishing the TCP connection (name resolution included). Default 10 s.
        public var connect: Duration
        /// The server's greeting, and each TLS handshake. Default 30 s.
        public var greeting: Duration
        /// Each reply to a command. Default 30 s.
        public var reply: Duration
        /// The reply after the message content, when the server may scan the mail. Default 120 s.
        public var dataEnd: Duration
        /// How long an unused connection stays open for the next delivery. Default 30 s.
        public var idle: Duration

        /// Creates timeouts; every argument has the default described on its property.
        public init(
            connect: Duration = .seconds(10), greeting: Duration = .seconds(30), reply: Duration = .seconds(30),
            dataEnd: Duration = .seconds(120), idle: Duration = .seconds(30)
        ) {
            self.connect = connect
            self.greeting = greeting
            self.reply = reply
            self.dataEnd = dataEnd
            self.idle = idle
        }

        /// A `Duration` as NIO's `TimeAmount`, at least one millisecond.
        static func amount(_ duration: Duration) -> TimeAmount {
            let (seconds, attoseconds) = duration.components
            let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            guard !nanoseconds.overflow else { return .hours(24 * 365) }
            return .nanoseconds(max(1_000_000, nanoseconds.partialValue + attoseconds / 1_000_000_000))
        }

        /// A time for people: "30 s", "250 ms".
        static func describe(_ amount: TimeAmount) -> String {
            let nanoseconds = amount.nanoseconds
            if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000) s" }
            return "\(nanoseconds / 1_000_000) ms"
        }
    }

    /// The server's host name or IP address (IPv6 without brackets), lower-cased.
    public let host: String
    /// The server's TCP port.
    public let port: Int
    /// How the connection is protected.
    public let security: Security
    /// The AUTH user name, when the URL has credentials.
    public let username: String?
    /// The AUTH password; kept out of `description` and every error.
    let password: String?
    /// A PEM bundle of CA certificates trusted in addition to the system store.
    public let caFile: String?
    /// The name the client gives in EHLO/HELO.
    public let heloName: String
    /// Time limits for each step.
    public var timeouts = Timeouts()
    /// After this many mails the connection is closed and a new one opened, so a server's
    /// per-connection limit is never hit. Default 500.
    public var maximumMessagesPerConnection = 500

    /// Parses an SMTP URL (see the type's documentation).
    ///
    /// - Parameters:
    ///   - url: `smtp://`, `smtp+starttls://` or `smtps://`, optional `user:password@`,
    ///     host, optional port; nothing after the port.
    ///   - caFile: a PEM file of CA certificates to trust besides the system store (the
    ///     caller reads `RETRACT_SMTP_CA_FILE`); it is read now, so a bad file fails here.
    ///   - heloName: the EHLO name; by default this machine's host name.
    /// - Throws: `MailError.invalidConfiguration` with a one-line reason that never contains
    ///   the password.
    public init(url: String, caFile: String? = nil, heloName: String? = nil) throws(MailError) {
        guard let schemeEnd = url.range(of: "://") else {
            throw Self.invalid("the SMTP URL must start with smtp://, smtp+starttls:// or smtps://")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let security: Security
        let defaultPort: Int
        switch scheme {
        case "smtp": (security, defaultPort) = (.plain, 25)
        case "smtp+starttls": (security, defaultPort) = (.startTLS, 587)
        case "smtps": (security, defaultPort) = (.implicitTLS, 465)
        default:
            throw Self.invalid(
                "unknown SMTP URL scheme \(MailError.quote(scheme, limit: 20)); "
                    + "use smtp://, smtp+starttls:// or smtps://")
        }
        var authority = Substring(url[schemeEnd.upperBound...])
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            guard authority[end...] == "/" else {
                throw Self.invalid(
                    "the SMTP URL has something after the host and port; nothing may follow them "
                        + "(percent-encode '/', '?' and '#' in a user name or password)")
            }
            authority = authority[..<end]
        }

        var username: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw Self.invalid("the SMTP URL has a user name but no password; write user:password@host")
            }
            guard let user = Self.percentDecode(userInfo[..<colon]),
                let secret = Self.percentDecode(userInfo[userInfo.index(after: colon)...])
            else {
                throw Self.invalid("the SMTP URL's user name or password has an invalid percent escape")
            }
            guard !user.isEmpty, !secret.isEmpty else {
                throw Self.invalid("the SMTP URL's user name and password must not be empty")
            }
            guard !(user + secret).unicodeScalars.contains(where: { $0.value == 0 }) else {
                throw Self.invalid("the SMTP URL's user name or password contains NUL")
            }
            (username, password) = (user, secret)
        }

        let (host, port) = try Self.parseHostAndPort(authority, defaultPort: defaultPort)
        if username != nil, security == .plain, !Self.isLoopback(host) {
            throw Self.invalid(
                "refusing to send the SMTP password to \(host) unencrypted; use smtp+starttls:// or smtps://, "
                    + "or smtp:// only for a relay on localhost")
        }

        var trustedCAFile: String?
        if let caFile, !caFile.isEmpty {
            do {
                guard try !NIOSSLCertificate.fromPEMFile(caFile).isEmpty else {
                    throw Self.invalid("the CA file \(MailError.quote(caFile, limit: 200)) holds no certificate")
                }
            } catch let error as MailError {
                throw error
            } catch {
                throw Self.invalid(
                    "cannot read the CA file \(MailError.quote(caFile, limit: 200)) as PEM certificates; "
                        + "point RETRACT_SMTP_CA_FILE at a readable PEM bundle")
            }
            trustedCAFile = caFile
        }

        let helo = heloName ?? Self.machineHostName()
        guard Self.isValidHELOName(helo) else {
            throw Self.invalid(
                "\(MailError.quote(helo)) cannot be an EHLO name; "
                    + "use a domain name or an address literal like [192.0.2.1]")
        }

        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.caFile = trustedCAFile
        self.heloName = helo
    }

    /// `host:port`, with brackets around an IPv6 address; used in error messages.
    public var endpoint: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    /// Whether the host is an IP address rather than a name (then it cannot be the TLS SNI).
    public var hostIsIPAddress: Bool {
        Self.ipv4Bytes(self.host) != nil || Self.ipv6Bytes(self.host) != nil
    }

    /// The URL without the password: `smtp+starttls://smtp.example.com:587 (user alice)`.
    public var description: String {
        let scheme =
            switch self.security {
            case .plain: "smtp"
            case .startTLS: "smtp+starttls"
            case .implicitTLS: "smtps"
            }
        let user = self.username.map { " (user \(MailError.quote($0, limit: 60)))" } ?? ""
        return "\(scheme)://\(self.endpoint)\(user)"
    }

    // MARK: - Parsing helpers

    private static func invalid(_ message: String) -> MailError {
        MailError.invalidConfiguration.with(message)
    }

    private static func parseHostAndPort(_ authority: Substring, defaultPort: Int) throws(MailError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw Self.invalid("the SMTP URL's IPv6 address lacks its closing ']'")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else {
                    throw Self.invalid("the SMTP URL has text after ']' that is not a port")
                }
                portText = rest.dropFirst()
            }
            guard Self.ipv6Bytes(String(host)) != nil else {
                throw Self.invalid("\(MailError.quote(host)) in the SMTP URL is not an IPv6 address")
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else {
                throw Self.invalid("write an IPv6 address in brackets in the SMTP URL, as in smtp://[::1]:25")
            }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
            let validName =
                (1...253).contains(host.utf8.count)
                && host.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                }
            guard validName else {
                throw Self.invalid(
                    host.isEmpty
                        ? "the SMTP URL has no host"
                        : "\(MailError.quote(host)) is not a host name; use ASCII (punycode for international names)")
            }
        }
        var port = defaultPort
        if let portText {
            guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(portText),
                (1...65535).contains(number)
            else {
                throw Self.invalid("\(MailError.quote(portText, limit: 12)) is not a TCP port (1–65535)")
            }
            port = number
        }
        return (host.lowercased(), port)
    }

    /// Decodes `%XX` escapes; nil for a broken escape or bytes that are not UTF-8.
    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `localhost`, `127.0.0.0/8`, `::1` and `::ffff:127.0.0.0/104`.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        if let bytes = Self.ipv4Bytes(host) { return bytes[0] == 127 }
        if let bytes = Self.ipv6Bytes(host) {
            if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
            return bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] && bytes[12] == 127
        }
        return false
    }

    private static func ipv4Bytes(_ host: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    private static func ipv6Bytes(_ host: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, host, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// A domain name, or an address literal in brackets; printable ASCII only, at most 255 bytes.
    static func isValidHELOName(_ name: String) -> Bool {
        guard (1...255).contains(name.utf8.count) else { return false }
        if name.hasPrefix("[") && name.hasSuffix("]") {
            return name.utf8.dropFirst().dropLast().allSatisfy {
                $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]")
            }
        }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }

    /// This machine's host name when it can be an EHLO name, else `localhost`.
    private static func machineHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Self.isValidHELOName(name) ? name : "localhost"
    }
}
