#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation (`127.0.0.0/8`, `10.1.0.0/16`, `::1`,
/// `fd00::/8`): the server trusts clients inside its configured networks to relay.
///
/// A bare address is a network of one (`/32`, `/128`). An IPv4-mapped IPv6 address
/// (`::ffff:127.0.0.1`, as a dual-stack socket reports an IPv4 peer) matches as the IPv4
/// address it carries.
public struct SMTPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The network's address bytes (4 or 16), host bits cleared.
    private let bytes: [UInt8]
    /// The prefix length in bits.
    public let prefixLength: Int

    /// Parses `address` or `address/prefix`.
    public init(_ text: String) throws(SMTPServerError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.addressBytes(String(parts[0])) else { throw .invalidNetwork(text) }
        let bits = address.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...bits).contains(value), parts[1].allSatisfy(\.isASCII)
            else { throw .invalidNetwork(text) }
            prefix = value
        }
        self.bytes = Self.masked(address, prefix)
        self.prefixLength = prefix
    }

    /// `127.0.0.0/8` and `::1`: the default trusted networks (the local MTA).
    public static let loopback: [SMTPNetwork] = [
        SMTPNetwork(uncheckedBytes: [127, 0, 0, 0], prefixLength: 8),
        SMTPNetwork(uncheckedBytes: [UInt8](repeating: 0, count: 15) + [1], prefixLength: 128),
    ]

    private init(uncheckedBytes: [UInt8], prefixLength: Int) {
        self.bytes = uncheckedBytes
        self.prefixLength = prefixLength
    }

    /// Whether `address` (a textual IPv4 or IPv6 address) lies inside the network; false
    /// for anything that is not an address.
    public func contains(_ address: String) -> Bool {
        guard let candidate = Self.addressBytes(address), candidate.count == self.bytes.count else { return false }
        return Self.masked(candidate, self.prefixLength) == self.bytes
    }

    /// Whether `address` is a loopback address (`127.0.0.0/8`, `::1`).
    public static func isLoopback(_ address: String) -> Bool {
        Self.loopback.contains { $0.contains(address) }
    }

    /// `address/prefix`.
    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let family = self.bytes.count == 4 ? AF_INET : AF_INET6
        let written = self.bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil
        }
        let address =
            written ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        return "\(address)/\(self.prefixLength)"
    }

    /// The 4 or 16 bytes of a textual address; an IPv4-mapped IPv6 address gives its 4
    /// IPv4 bytes. A zone (`fe80::1%eth0`) is dropped.
    private static func addressBytes(_ text: String) -> [UInt8]? {
        let plain = String(text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)[0])
        guard !plain.isEmpty, plain.utf8.count < 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, plain, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, plain, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes.suffix(4))
        }
        return bytes
    }

    private static func masked(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = max(0, min(8, prefix - index * 8))
            return byte & ~(UInt8(0xFF) >> keep)
        }
    }
}
