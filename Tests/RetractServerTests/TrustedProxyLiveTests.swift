import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
@testable import RetractServer
import RetractTestSupport
import Seal
import Testing

/// The per-client limits behind a load balancer, over real loopback connections through the
/// router `retract serve` builds: the connection's peer is 127.0.0.1, which each test either
/// trusts as a proxy (`RETRACT_TRUSTED_PROXIES=127.0.0.0/8`) or does not.
@Suite("Trusted proxies over real HTTP: forwarded clients get their own limits, spoofers do not", .serialized)
struct TrustedProxyLiveTests {
    let fixture: WebFixture
    let links: [Link]

    init() async throws {
        fixture = try WebFixture()
        let receipt = try await fixture.service.send(
            Draft(from: WebTestAccount.alice, to: (0..<5).map { "r\($0)@partner.test" }, subject: "S", body: "B"))
        links = try receipt.recipients.map { try Link.parse($0.link) }
    }

    /// The application with `proxies` (a `RETRACT_TRUSTED_PROXIES` value) trusted.
    func app(trusting proxies: String, header: String? = nil) async throws -> some ApplicationProtocol {
        let resolver = try ClientAddressResolver(parsingProxies: proxies, header: header)
        return Application(
            router: try await buildRouter(service: fixture.service, web: fixture.options, clientAddresses: resolver))
    }

    /// `POST /m/{token}/open` on link `index` with `key` (a fresh wrong one when nil) and `headers`.
    func open(_ client: some TestClientProtocol, link index: Int, rightKey: Bool = false, headers: HTTPFields = [:])
        async throws -> TestResponse
    {
        var fields = headers
        fields[.contentType] = "application/json"
        let key = rightKey ? links[index].linkKey : LinkKey.generate()
        return try await client.execute(
            uri: "/m/\(links[index].token.base64url)/open", method: .post, headers: fields,
            body: ByteBuffer(string: "{\"key\":\"\(key.base64url)\"}"))
    }

    /// The client's whole budget of failed opens, spread over links 0–3 (each below its own limit).
    func useUpOpenBudget(_ client: some TestClientProtocol, headers: (Int) -> HTTPFields) async throws {
        for index in 0..<RetractService.openClientFailureLimit {
            let response = try await open(client, link: index % 4, headers: headers(index))
            #expect(response.status == .forbidden)
        }
    }

    static func xff(_ value: String) -> HTTPFields { [.xForwardedFor: value] }

    // MARK: Untrusted peers

    @Test("a spoofed X-Forwarded-For from an untrusted client does not change its rate-limit bucket")
    func spoofedHeaderFromUntrustedPeer() async throws {
        // Given a server that trusts only 10.0.0.0/8, and a client at 127.0.0.1 that sends a
        // fresh X-Forwarded-For (and Forwarded) with every wrong key
        try await app(trusting: "10.0.0.0/8").test(.live) { client in
            try await useUpOpenBudget(client) { index in
                var fields = Self.xff("203.0.113.\(index)")
                fields[.forwarded] = "for=198.51.100.\(index)"
                return fields
            }
            // Then its next attempt, with yet another forged address and the right key, is refused
            let refused = try await open(client, link: 4, rightKey: true, headers: Self.xff("192.0.2.200"))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.text.contains("too_many_attempts"))
        }
    }

    // MARK: Trusted peers

    @Test("behind a trusted proxy each forwarded client has its own open budget; the proxy's own requests another")
    func forwardedClientsHaveTheirOwnBudget() async throws {
        try await app(trusting: "127.0.0.0/8").test(.live) { client in
            // Given 30 wrong keys forwarded for 203.0.113.7
            try await useUpOpenBudget(client) { _ in Self.xff("203.0.113.7") }
            // Then 203.0.113.7 is refused, even with the right key
            let refused = try await open(client, link: 4, rightKey: true, headers: Self.xff("203.0.113.7"))
            #expect(refused.status == .tooManyRequests)
            // And another client behind the same proxy opens the message
            let other = try await open(client, link: 4, rightKey: true, headers: Self.xff("203.0.113.8"))
            #expect(other.status == .ok)
            // And so does a request of the proxy itself, without a forwarding header
            let proxy = try await open(client, link: 4, rightKey: true)
            #expect(proxy.status == .ok)
        }
    }

    @Test("the chain is walked from the right past trusted hops: the first untrusted address is counted")
    func chainWalking() async throws {
        try await app(trusting: "127.0.0.0/8, 10.0.0.0/8").test(.live) { client in
            // Given failures forwarded through a second proxy at 10.1.2.3, with a forged hop left of the client
            try await useUpOpenBudget(client) { _ in Self.xff("198.51.100.1, 203.0.113.7, 10.1.2.3") }
            // Then they were counted against 203.0.113.7
            let refused = try await open(client, link: 4, rightKey: true, headers: Self.xff("203.0.113.7"))
            #expect(refused.status == .tooManyRequests)
            // And not against the forged 198.51.100.1, nor the inner proxy
            let forged = try await open(client, link: 4, rightKey: true, headers: Self.xff("198.51.100.1"))
            #expect(forged.status == .ok)
            let inner = try await open(client, link: 4, rightKey: true, headers: Self.xff("10.1.2.3"))
            #expect(inner.status == .ok)
        }
    }

    @Test("a malformed forwarding header from a trusted peer counts against the peer's own address")
    func malformedHeaderCountsAgainstPeer() async throws {
        try await app(trusting: "127.0.0.0/8").test(.live) { client in
            // Given 30 wrong keys whose X-Forwarded-For names no address
            try await useUpOpenBudget(client) { index in Self.xff(index % 2 == 0 ? "not-an-address" : "unknown") }
            // Then the peer itself (no header) is refused
            let refused = try await open(client, link: 4, rightKey: true)
            #expect(refused.status == .tooManyRequests)
            // And a well-forwarded client is not
            let other = try await open(client, link: 4, rightKey: true, headers: Self.xff("203.0.113.9"))
            #expect(other.status == .ok)
        }
    }

    @Test("RFC 7239 Forwarded with a bracketed IPv6 address and port names the client; X-Forwarded-For is then ignored")
    func forwardedIPv6() async throws {
        try await app(trusting: "127.0.0.0/8", header: "forwarded").test(.live) { client in
            // Given failures forwarded for [2001:db8::7]:4711, each with a different X-Forwarded-For
            try await useUpOpenBudget(client) { index in
                var fields: HTTPFields = [.forwarded: #"for="[2001:db8::7]:4711";proto=https"#]
                fields[.xForwardedFor] = "203.0.113.\(index)"
                return fields
            }
            // Then 2001:db8::7 is refused however its address is written
            let refused = try await open(
                client, link: 4, rightKey: true, headers: [.forwarded: "for=\"[2001:DB8:0::7]\""])
            #expect(refused.status == .tooManyRequests)
            // And another IPv6 client is not
            let other = try await open(client, link: 4, rightKey: true, headers: [.forwarded: "for=\"[2001:db8::8]\""])
            #expect(other.status == .ok)
        }
    }

    // MARK: Sign-ins and API tokens

    @Test("failed sign-ins are counted per forwarded client behind a trusted proxy")
    func signInsPerForwardedClient() async throws {
        try await app(trusting: "127.0.0.0/8").test(.live) { client in
            // Given one forwarded client that fails on 20 different accounts
            var attacker = WebTestBrowser(client, extraHeaders: Self.xff("203.0.113.7"))
            for index in 0..<RetractService.signInLimitPerClient {
                let response = try await attacker.signIn("nobody\(index)@corp.test", password: "guess")
                #expect(response.status == .unauthorized)
            }
            // Then that client is refused even with Bob's right password
            let refused = try await attacker.signIn(WebTestAccount.bob)
            #expect(refused.status == .tooManyRequests)
            // And Bob, behind the same proxy from another address, signs in
            var bob = WebTestBrowser(client, extraHeaders: Self.xff("203.0.113.8"))
            let signedIn = try await bob.signIn(WebTestAccount.bob)
            #expect(signedIn.status == .seeOther)
        }
    }

    @Test("wrong API tokens are counted per forwarded client behind a trusted proxy")
    func apiTokensPerForwardedClient() async throws {
        let token = try fixture.service.addSender(address: "carol@corp.test", name: nil).token
        try await app(trusting: "127.0.0.0/8").test(.live) { client in
            for index in 0..<20 {
                var fields = Self.xff("203.0.113.7")
                fields[.authorization] = "Bearer rt_wrong_\(index)"
                let response = try await client.execute(uri: "/api/v1/messages", method: .get, headers: fields)
                #expect(response.status == .unauthorized)
            }
            var attacker = Self.xff("203.0.113.7")
            attacker[.authorization] = "Bearer \(token)"
            let refused = try await client.execute(uri: "/api/v1/messages", method: .get, headers: attacker)
            #expect(refused.status == .tooManyRequests)
            var carol = Self.xff("203.0.113.8")
            carol[.authorization] = "Bearer \(token)"
            let accepted = try await client.execute(uri: "/api/v1/messages", method: .get, headers: carol)
            #expect(accepted.status == .ok)
        }
    }
}
