import HTTPTypes
import RetractCore
import Testing

@testable import RetractServer

/// Who the client of a request is: the TCP peer, unless the peer is a trusted proxy, whose
/// forwarding header is then walked from the right past the trusted hops.
@Suite("Client address: forwarding headers are believed only from trusted proxies")
struct ClientAddressResolverTests {
    /// A load balancer at 10.0.0.1 inside 10.0.0.0/8, and an IPv6 proxy range in front of it.
    let resolver: ClientAddressResolver
    /// The same proxies, writing RFC 7239 `Forwarded`.
    let forwardedResolver: ClientAddressResolver

    init() throws {
        resolver = try ClientAddressResolver(parsingProxies: "10.0.0.0/8, 2001:db8:ffff::/48")
        forwardedResolver = ClientAddressResolver(trustedProxies: resolver.trustedProxies, header: .forwarded)
    }

    static func xff(_ values: String...) -> HTTPFields {
        HTTPFields(values.map { HTTPField(name: .xForwardedFor, value: $0) })
    }

    static func forwarded(_ values: String...) -> HTTPFields {
        HTTPFields(values.map { HTTPField(name: .forwarded, value: $0) })
    }

    // MARK: Untrusted peers

    @Test("by default no proxy is trusted: the peer is the client whatever the headers say")
    func defaultTrustsNobody() {
        let resolver = ClientAddressResolver()
        #expect(!resolver.trustsProxies)
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("203.0.113.7")) == "10.0.0.1")
    }

    @Test("a peer outside the trusted networks is the client: its X-Forwarded-For and Forwarded are ignored")
    func untrustedPeerHeadersIgnored() {
        #expect(resolver.clientAddress(peer: "198.51.100.9", fields: Self.xff("203.0.113.7")) == "198.51.100.9")
        #expect(
            forwardedResolver.clientAddress(peer: "198.51.100.9", fields: Self.forwarded("for=203.0.113.7"))
                == "198.51.100.9")
        #expect(resolver.clientAddress(peer: nil, fields: Self.xff("203.0.113.7")) == nil)
    }

    // MARK: X-Forwarded-For from a trusted peer

    @Test("from a trusted peer the right-most address of X-Forwarded-For is the client")
    func trustedPeerRightMost() {
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("203.0.113.7")) == "203.0.113.7")
        // A client's own X-Forwarded-For, passed on with the proxy's addition, cannot choose the address.
        #expect(
            resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("1.2.3.4, 5.6.7.8, 203.0.113.7"))
                == "203.0.113.7")
    }

    @Test("the walk from the right skips hops that are themselves trusted proxies")
    func chainSkipsTrustedHops() {
        #expect(
            resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("1.2.3.4, 203.0.113.7, 10.9.8.7, 10.0.0.2"))
                == "203.0.113.7")
        // Several header lines are one list, in order.
        #expect(
            resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("1.2.3.4, 203.0.113.7", "10.9.8.7"))
                == "203.0.113.7")
    }

    @Test("when every hop is a trusted proxy the left-most is the client")
    func allTrustedGivesLeftMost() {
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("10.5.5.5, 10.0.0.2")) == "10.5.5.5")
    }

    @Test("a trusted peer without a forwarding header is itself the client (the load balancer's health checks)")
    func trustedPeerWithoutHeader() {
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: [:]) == "10.0.0.1")
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("")) == "10.0.0.1")
    }

    @Test(
        "a malformed hop where the walk needs it gives the peer's address",
        arguments: [
            "garbage", "203.0.113.7, not-an-ip", "203.0.113.7, 300.1.1.1", "unknown", "[2001:db8::1", "1.2.3.4:99999",
        ])
    func malformedGivesPeer(_ header: String) {
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff(header)) == "10.0.0.1")
    }

    @Test("a malformed hop left of the client is never read")
    func malformedLeftOfClientIsIgnored() {
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff("garbage, 203.0.113.7")) == "203.0.113.7")
    }

    @Test(
        "IPv6, bracketed and with ports, and IPv4 with a port, in X-Forwarded-For; addresses come out canonical",
        arguments: [
            ("2001:DB8:0:0::7", "2001:db8::7"), ("[2001:db8::7]", "2001:db8::7"), ("[2001:db8::7]:4711", "2001:db8::7"),
            ("203.0.113.7:4711", "203.0.113.7"), ("::ffff:203.0.113.7", "203.0.113.7"),
        ])
    func addressForms(_ header: String, _ client: String) {
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: Self.xff(header)) == client)
    }

    @Test("an IPv4-mapped IPv6 peer (a dual-stack socket) inside a trusted IPv4 network is trusted")
    func mappedPeerIsTrusted() {
        #expect(resolver.clientAddress(peer: "::ffff:10.0.0.1", fields: Self.xff("203.0.113.7")) == "203.0.113.7")
    }

    // MARK: Forwarded (RFC 7239)

    @Test(
        "RFC 7239 Forwarded: the right-most for= that is not a trusted proxy, with quoted IPv6 and ports",
        arguments: [
            ("for=203.0.113.7", "203.0.113.7"),
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            (#"for="[2001:db8:cafe::17]:4711""#, "2001:db8:cafe::17"),
            (#"for="[2001:db8:cafe::17]""#, "2001:db8:cafe::17"),
            (#"For="203.0.113.7:8080""#, "203.0.113.7"),
            ("for=1.2.3.4, for=203.0.113.7", "203.0.113.7"),
            (#"for=203.0.113.7, for="[2001:db8:ffff::1]", for=10.0.0.2"#, "203.0.113.7"),
            ("for=[2001:db8::5]:80", "2001:db8::5"),
        ])
    func forwardedForms(_ header: String, _ client: String) {
        #expect(forwardedResolver.clientAddress(peer: "10.0.0.1", fields: Self.forwarded(header)) == client)
    }

    @Test(
        "a Forwarded line that breaks the grammar, or a hop without one readable for=, gives the peer",
        arguments: [
            #"for="203.0.113.7"#, "for", "for=", "proto=https", "for=unknown", "for=_hidden", "for=a;for=b",
            "for=203.0.113.7 junk", #"for="[2001:db8::1]:x""#,
        ])
    func forwardedMalformed(_ header: String) {
        #expect(forwardedResolver.clientAddress(peer: "10.0.0.1", fields: Self.forwarded(header)) == "10.0.0.1")
    }

    @Test("a client's broken Forwarded line does not hide the proxy's own line after it")
    func brokenClientLineKeepsProxyLine() {
        #expect(
            forwardedResolver.clientAddress(
                peer: "10.0.0.1", fields: Self.forwarded(#"for="oops"#, "for=203.0.113.7")) == "203.0.113.7")
    }

    @Test(
        "only the configured header is read: with Forwarded chosen, X-Forwarded-For is ignored, and the other way round"
    )
    func onlyTheChosenHeader() {
        var both = Self.xff("198.51.100.1")
        both.append(HTTPField(name: .forwarded, value: "for=203.0.113.7"))
        #expect(resolver.clientAddress(peer: "10.0.0.1", fields: both) == "198.51.100.1")
        #expect(forwardedResolver.clientAddress(peer: "10.0.0.1", fields: both) == "203.0.113.7")
    }

    // MARK: Configuration

    @Test("RETRACT_TRUSTED_PROXIES takes comma-separated CIDRs and bare addresses")
    func parsesList() throws {
        let resolver = try ClientAddressResolver(
            parsingProxies: " 10.0.0.0/8, 192.0.2.1 ,fd00::/8", header: "Forwarded")
        #expect(resolver.trustedProxies.map(\.description) == ["10.0.0.0/8", "192.0.2.1/32", "fd00::/8"])
        #expect(resolver.header == .forwarded)
        #expect(try ClientAddressResolver(parsingProxies: "").trustsProxies == false)
    }

    @Test(
        "a bad network or header name is a one-line error naming the setting",
        arguments: [("10.0.0.0/33", nil), ("10.0.0.0/8, example.com", nil), ("10.0.0.0/8", "X-Real-IP")])
    func rejectsBadValues(_ proxies: String, _ header: String?) {
        #expect {
            _ = try ClientAddressResolver(parsingProxies: proxies, header: header, option: "--trusted-proxies")
        } throws: { error in
            let text = "\(error)"
            return !text.contains("\n")
                && (text.contains("--trusted-proxies") || text.contains("RETRACT_FORWARDED_HEADER"))
        }
    }
}
