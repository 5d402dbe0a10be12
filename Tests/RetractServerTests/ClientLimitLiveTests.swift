import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Mail
import RetractCore
import RetractServer
import RetractTestSupport
import Seal
import Testing
import Vault

/// The persisted per-client abuse limits, proven over a real loopback connection through the
/// router `retract serve` builds (so the client address is the one `RetractRequestContext`
/// takes from the channel), and again after a restart over the same data directory.
@Suite("Client limits over real HTTP: failed opens, sign-ins and API tokens", .serialized)
struct ClientLimitLiveTests {
    let fixture: WebFixture

    init() throws {
        fixture = try WebFixture()
    }

    /// The same data and keys directories opened afresh, as `retract serve` does after a restart.
    func restartedApp() async throws -> some ApplicationProtocol {
        let configuration = fixture.service.configuration
        let clock = fixture.bench.clock
        let service = RetractService(
            configuration: configuration, vault: try VaultDatabase.open(directory: configuration.dataDirectory),
            keys: try KeyDirectory(url: configuration.keysDirectory).load(), templates: try MailTemplates(),
            transport: FileOutboxTransport(directory: configuration.outboxDirectory), now: { clock.now })
        return Application(router: try await buildRouter(service: service, web: fixture.options))
    }

    /// Whether a response is a 429 whose `Retry-After` is a whole number of seconds inside the 15-minute window.
    static func isLimited(_ response: TestResponse) -> Bool {
        guard response.status == .tooManyRequests, let value = response.headers[.retryAfter], let seconds = Int(value)
        else { return false }
        return seconds > 0 && seconds <= 15 * 60
    }

    /// An open request's JSON body.
    static func body(_ key: LinkKey) -> ByteBuffer { ByteBuffer(string: "{\"key\":\"\(key.base64url)\"}") }

    /// The header of an API request with a bearer token.
    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    // MARK: Failed opens per client

    @Test(
        "the 31st failed open from one address gets 429 with Retry-After, the right key too, and still after a restart")
    func failedOpensPerClient() async throws {
        // Given five links, so that no single link reaches its own limit of 10 wrong keys
        let receipt = try await fixture.service.send(
            Draft(from: WebTestAccount.alice, to: (0..<5).map { "r\($0)@partner.test" }, subject: "S", body: "B"))
        let links = try receipt.recipients.map { try Link.parse($0.link) }
        let json: HTTPFields = [.contentType: "application/json"]

        try await fixture.app().test(.live) { client in
            // When one client sends 30 wrong keys spread over four links
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<RetractService.openClientFailureLimit {
                let response = try await client.execute(
                    uri: "/m/\(links[index % 4].token.base64url)/open", method: .post, headers: json,
                    body: Self.body(LinkKey.generate()))
                statuses.append(response.status)
            }
            #expect(statuses.allSatisfy { $0 == .forbidden })
            // Then the next attempt, on the fifth link with its right key, is refused
            let refused = try await client.execute(
                uri: "/m/\(links[4].token.base64url)/open", method: .post, headers: json,
                body: Self.body(links[4].linkKey))
            #expect(Self.isLimited(refused))
            #expect(refused.text.contains("too_many_attempts"))
            #expect(!refused.text.contains("\"subject\""))
        }
        // And a restarted server over the same data still refuses that client
        try await restartedApp().test(.live) { client in
            let refused = try await client.execute(
                uri: "/m/\(links[4].token.base64url)/open", method: .post, headers: json,
                body: Self.body(links[4].linkKey))
            #expect(Self.isLimited(refused))
        }
    }

    // MARK: Failed sign-ins

    @Test(
        "the 6th failed sign-in to one account gets 429 with Retry-After, the right password too, and after a restart")
    func failedSignInsPerAccount() async throws {
        try await fixture.app().test(.live) { client in
            var browser = WebTestBrowser(client)
            for _ in 0..<RetractService.signInLimitPerAccount {
                let response = try await browser.signIn(password: "wrong password!")
                #expect(response.status == .unauthorized)
            }
            let refused = try await browser.signIn()
            #expect(Self.isLimited(refused))
            #expect(browser.cookies["retract_session"] == nil)
            // The client itself is not limited yet (5 of its 20): another account still signs in.
            let bob = try await browser.signIn(WebTestAccount.bob)
            #expect(bob.status == .seeOther)
        }
        try await restartedApp().test(.live) { client in
            var browser = WebTestBrowser(client)
            let refused = try await browser.signIn()
            #expect(Self.isLimited(refused))
            #expect(browser.cookies["retract_session"] == nil)
        }
    }

    @Test("the 21st failed sign-in from one address gets 429 with Retry-After for any account, and after a restart")
    func failedSignInsPerClient() async throws {
        try await fixture.app().test(.live) { client in
            // When one client fails once each on 20 different addresses (no account reaches its 5)
            var browser = WebTestBrowser(client)
            for index in 0..<RetractService.signInLimitPerClient {
                let response = try await browser.signIn("nobody\(index)@corp.test", password: "guess")
                #expect(response.status == .unauthorized)
            }
            // Then even Bob's right password from that client is refused
            let refused = try await browser.signIn(WebTestAccount.bob)
            #expect(Self.isLimited(refused))
            #expect(browser.cookies["retract_session"] == nil)
        }
        try await restartedApp().test(.live) { client in
            var browser = WebTestBrowser(client)
            let refused = try await browser.signIn(WebTestAccount.bob)
            #expect(Self.isLimited(refused))
        }
    }

    // MARK: Failed API tokens

    @Test(
        "the 21st wrong API token from one address gets 429 problem+json with Retry-After, the right token too, and after a restart"
    )
    func failedTokensPerClient() async throws {
        let token = try fixture.service.addSender(address: "carol@corp.test", name: nil).token

        try await fixture.app().test(.live) { client in
            let accepted = try await client.execute(uri: "/api/v1/messages", method: .get, headers: Self.bearer(token))
            #expect(accepted.status == .ok)
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<20 {
                let response = try await client.execute(
                    uri: "/api/v1/messages", method: .get, headers: Self.bearer("rt_wrong_\(index)"))
                statuses.append(response.status)
            }
            #expect(statuses.allSatisfy { $0 == .unauthorized })
            let refused = try await client.execute(uri: "/api/v1/messages", method: .get, headers: Self.bearer(token))
            #expect(Self.isLimited(refused))
            #expect(refused.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            #expect(refused.text.contains("too-many-requests"))
        }
        try await restartedApp().test(.live) { client in
            let refused = try await client.execute(uri: "/api/v1/messages", method: .get, headers: Self.bearer(token))
            #expect(Self.isLimited(refused))
        }
    }

    // MARK: Without a peer address

    @Test("without a peer address (router tests) failed sign-ins to many accounts never lock out another account")
    func noPeerAddressSharesNoBucket() async throws {
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            for index in 0..<(RetractService.signInLimitPerClient + 5) {
                let response = try await browser.signIn("nobody\(index)@corp.test", password: "guess")
                #expect(response.status == .unauthorized)
            }
            let signedIn = try await browser.signIn(WebTestAccount.bob)
            #expect(signedIn.status == .seeOther)
        }
    }
}
