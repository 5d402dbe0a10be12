import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractServer
import Testing

/// `Strict-Transport-Security` follows the public URL: every answer of an https service
/// carries it (pages, API problems, 404s, redirects), and a plain-http service never sends it.
@Suite("Strict-Transport-Security follows the public URL")
struct StrictTransportSecurityTests {
    static let hsts = HTTPField.Name("Strict-Transport-Security")!

    /// One request of each kind the router answers: a page, health, a redirect, a 404, an API 401.
    static let requests: [(String, HTTPRequest.Method)] = [
        ("/healthz", .get), ("/app/sign-in", .get), ("/app/messages", .get), ("/no/such/page", .get),
        ("/api/v1/messages", .get), ("/m/AAAAAAAAAAAAAAAAAAAAAA", .get), ("/static/retract.css", .get),
    ]

    @Test("with an https public URL every response carries Strict-Transport-Security for a year")
    func httpsServiceSendsHSTS() async throws {
        let fixture = try WebFixture(publicURL: "https://retract.example.test")
        try await fixture.app().test(.router) { client in
            for (uri, method) in Self.requests {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.headers[Self.hsts] == "max-age=31536000", "\(method) \(uri) → \(response.status)")
            }
        }
    }

    @Test("with an http public URL no response carries Strict-Transport-Security")
    func httpServiceSendsNoHSTS() async throws {
        let fixture = try WebFixture(publicURL: "http://127.0.0.1:8080")
        try await fixture.app().test(.router) { client in
            for (uri, method) in Self.requests {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.headers[Self.hsts] == nil, "\(method) \(uri)")
            }
        }
    }
}
