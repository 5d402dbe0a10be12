import Foundation
import HTTPTypes
import RetractCore
import SMTP

/// Decides the client address a request counts against: the TCP peer, or, when the peer
/// is one of the configured trusted proxies, the address that proxy says it forwarded for.
///
/// Every per-client limit (failed opens, failed sign-ins, wrong API tokens) counts this one
/// address. Forwarding headers are believed only from trusted peers: from anyone else they
/// are ignored entirely, since a client could otherwise pick a fresh address per request.
/// From a trusted peer the chain is walked from the right (the hop nearest to us) past every
/// address that is itself a trusted proxy; the first one that is not is the client. When
/// every hop is trusted, the left-most is the client (someone inside the proxies' network).
/// A header the hop we need cannot be read from (malformed, `unknown`, an obfuscated name)
/// gives the peer's address: we know no better, and we never guess further left, where the
/// client writes what it likes. Only the header `header` names is read; the other is
/// ignored, because a proxy that writes one passes a client's forged other one through.
public struct ClientAddressResolver: Sendable {
    /// The forwarding header the trusted proxies write.
    public enum ForwardedHeader: String, Sendable, CaseIterable {
        /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, cloud load balancers).
        case xForwardedFor = "x-forwarded-for"
        /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:443"`.
        case forwarded
    }

    /// The networks whose connections are proxies (`RETRACT_TRUSTED_PROXIES`); empty by default.
    public let trustedProxies: [SMTPNetwork]
    /// The header read from them (`RETRACT_FORWARDED_HEADER`, default `x-forwarded-for`).
    public let header: ForwardedHeader

    /// A resolver that trusts no proxy: the client is always the TCP peer (the default).
    public init() {
        self.init(trustedProxies: [], header: .xForwardedFor)
    }

    /// A resolver that believes `header` from peers inside `trustedProxies`.
    public init(trustedProxies: [SMTPNetwork], header: ForwardedHeader = .xForwardedFor) {
        self.trustedProxies = trustedProxies
        self.header = header
    }

    /// Parses `RETRACT_TRUSTED_PROXIES` / `--trusted-proxies` (comma-separated CIDRs or
    /// addresses) and `RETRACT_FORWARDED_HEADER` / `--forwarded-header`, each a one-line
    /// error naming `option` or `headerOption` when it does not parse.
    public init(
        parsingProxies proxies: String, header: String? = nil, option: String = "RETRACT_TRUSTED_PROXIES",
        headerOption: String = "RETRACT_FORWARDED_HEADER"
    ) throws(RetractError) {
        var networks: [SMTPNetwork] = []
        for item in proxies.split(separator: ",") {
            let text = item.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            do {
                networks.append(try SMTPNetwork(text))
            } catch {
                throw .invalidInput(
                    "\(option) \(String(text.prefix(80)).debugDescription) is not a network; use CIDRs like 10.0.0.0/8, fd00::/8"
                )
            }
        }
        var chosen = ForwardedHeader.xForwardedFor
        if let header { chosen = try Self.forwardedHeader(header, option: headerOption) }
        self.init(trustedProxies: networks, header: chosen)
    }

    /// `x-forwarded-for` or `forwarded`, in any case; a one-line error naming `option` otherwise.
    public static func forwardedHeader(_ text: String, option: String = "RETRACT_FORWARDED_HEADER")
        throws(RetractError) -> ForwardedHeader
    {
        guard let value = ForwardedHeader(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw .invalidInput(
                "\(option) \(String(text.prefix(40)).debugDescription) is not x-forwarded-for or forwarded")
        }
        return value
    }

    /// Whether any proxy is trusted (else the peer is always the client).
    public var trustsProxies: Bool { !trustedProxies.isEmpty }

    /// Whether `address` is one of the trusted proxies.
    func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The client address of a request that arrived from `peer` (the connection's IP
    /// address; nil when there is none) with `fields`.
    public func clientAddress(peer: String?, fields: HTTPFields) -> String? {
        guard let peer, trustsProxies, isTrusted(peer) else { return peer }
        let lines: [String]
        switch header {
        case .xForwardedFor: lines = fields[values: .xForwardedFor]
        case .forwarded: lines = fields[values: .forwarded]
        }
        guard !lines.isEmpty else { return peer }
        // Each field line on its own: a client's broken line cannot swallow the proxy's own.
        var chain: [String?] = []
        for line in lines {
            switch header {
            case .xForwardedFor: chain += ForwardedChain.xForwardedFor(line)
            case .forwarded: chain += ForwardedChain.forwarded(line)
            }
        }
        for hop in chain.reversed() {
            guard let address = hop else { return peer }
            if !isTrusted(address) { return address }
        }
        return chain.first.flatMap { $0 } ?? peer
    }
}
