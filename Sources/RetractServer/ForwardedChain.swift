#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the hops of one forwarding header line, left (the client's side) to right (the hop
/// nearest to us): each hop the address it names in canonical text, or nil when it names
/// none that can be read (malformed, `unknown`, an obfuscated identifier).
///
/// Addresses come out as `inet_ntop` writes them (`2001:db8::1`, never `2001:DB8:0::1`), and
/// an IPv4-mapped IPv6 address as the IPv4 address it carries, so that one client is one
/// rate-limit subject however a proxy spells it.
enum ForwardedChain {
    /// The hops of `X-Forwarded-For: 203.0.113.7, 10.0.0.2`. Empty list elements are
    /// skipped (RFC 9110 lists allow them); `[v6]`, `[v6]:port` and `v4:port` are accepted,
    /// as some proxies write them.
    static func xForwardedFor(_ line: String) -> [String?] {
        line.split(separator: ",", omittingEmptySubsequences: false).compactMap { item -> String?? in
            let text = item.trimmingCharacters(in: Self.whitespace)
            return text.isEmpty ? nil : .some(node(text))
        }
    }

    /// The hops of RFC 7239 `Forwarded: for=203.0.113.7;proto=https, for="[2001:db8::1]:443"`:
    /// each element's `for` parameter. A line that does not follow the grammar (an unclosed
    /// quote, a pair without `=`) is one unreadable hop; an element with no `for`, or two,
    /// is an unreadable hop.
    static func forwarded(_ line: String) -> [String?] {
        guard let elements = ForwardedElements.parse(Array(line.utf8)) else { return [nil] }
        return elements.map { pairs in
            let values = pairs.filter { $0.name.lowercased() == "for" }.map(\.value)
            guard values.count == 1 else { return nil }
            return node(values[0])
        }
    }

    /// The address of one node (`192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`,
    /// `[2001:db8::1]:8080`, or a bare `2001:db8::1`); nil for anything else.
    static func node(_ text: String) -> String? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let inner = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && isPort(rest.dropFirst())) else { return nil }
            return canonical(inner, family: AF_INET6)
        }
        if let address = canonical(text, family: AF_INET) { return address }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, isPort(parts[1]), let address = canonical(String(parts[0]), family: AF_INET) {
            return address
        }
        return canonical(text, family: AF_INET6)
    }

    /// A port (0 to 65535, at most 5 digits), or an obfuscated port (`_` and letters,
    /// digits, `.`, `_`, `-`).
    private static func isPort(_ text: Substring) -> Bool {
        if text.first == "_" {
            return text.count > 1
                && text.utf8.allSatisfy {
                    $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || isAlphanumeric($0)
                }
        }
        return (1...5).contains(text.utf8.count) && text.utf8.allSatisfy { (48...57).contains($0) }
            && Int(text).map { $0 <= 65535 } == true
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    /// `text` as `inet_ntop` writes it when it is an address of `family`; an IPv4-mapped
    /// IPv6 address as its IPv4 address.
    private static func canonical(_ text: String, family: Int32) -> String? {
        guard !text.isEmpty, text.utf8.count < 64 else { return nil }
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if family == AF_INET {
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1,
                inet_ntop(AF_INET, &address, &output, socklen_t(output.count)) != nil
            else { return nil }
        } else {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: &address) { Array($0) }
            if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return bytes.suffix(4).map(String.init).joined(separator: ".")
            }
            guard inet_ntop(AF_INET6, &address, &output, socklen_t(output.count)) != nil else { return nil }
        }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static let whitespace: Set<Character> = [" ", "\t"]
}

extension StringProtocol {
    /// The text without leading and trailing characters of `set`.
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        guard let first = firstIndex(where: { !set.contains($0) }),
            let last = lastIndex(where: { !set.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}
