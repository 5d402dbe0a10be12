/// Makes unique RFC 5322 Message-IDs.
public enum MessageIDFactory {
    /// A new Message-ID, `<32 random hex digits@domain>`.
    ///
    /// 128 bits from the system's secure generator make collisions impossible in practice and
    /// reveal nothing (no time, no counter, no host). The domain is lowercased; an empty one,
    /// or one with characters a msg-id cannot hold, becomes `localhost`.
    public static func make(domain: String) -> String {
        var host = domain.lowercased()
        let allowed = host.unicodeScalars.allSatisfy {
            $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && !"<>@\"\\()[],;:".unicodeScalars.contains($0)
        }
        if host.isEmpty || !allowed { host = "localhost" }
        return "<\(Self.randomHex(bytes: 16))@\(host)>"
    }

    /// Lowercase hex of `bytes` random bytes from `SystemRandomNumberGenerator`.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        var result = ""
        result.reserveCapacity(bytes * 2)
        for _ in 0..<bytes {
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0F)])
        }
        return result
    }
}
