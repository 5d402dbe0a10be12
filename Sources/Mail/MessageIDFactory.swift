import Sodium

/// Makes unique RFC 5322 Message-IDs.
public enum MessageIDFactory {
    /// A new Message-ID, `<32 random hex digits@domain>`.
    ///
    /// 128 bits from libsodium's secure generator make collisions impossible in practice and
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

    /// Lowercase hex of `bytes` random bytes from libsodium's generator (`randombytes_buf`).
    ///
    /// One call for all the bytes: drawing them one by one from `SystemRandomNumberGenerator`
    /// cost about 20 µs an id, which a revocation with ten thousand notices pays ten thousand times.
    static func randomHex(bytes: Int) -> String {
        Hex.encode(Random.bytes(bytes))
    }
}
