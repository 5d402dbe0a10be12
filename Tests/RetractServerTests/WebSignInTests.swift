import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Testing

@Suite("Web app: sign-in, sessions and CSRF")
struct WebSignInTests {
    @Test("the right password sets an HttpOnly, SameSite=Strict session cookie for / and opens the sent list")
    func signInSetsSessionCookie() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            let response = try await browser.signIn()
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/app/messages")
            let cookie = response.headers[values: .setCookie].first { $0.hasPrefix("retract_session=") } ?? ""
            let attributes = Set(
                cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(attributes.contains("HttpOnly"))
            #expect(attributes.contains("SameSite=Strict"))
            #expect(attributes.contains("Path=/"))
            #expect(!attributes.contains("Secure"))
            let (list, html) = try await browser.page("/app/messages")
            #expect(list.status == .ok)
            #expect(html.contains("id=\"account\">alice@corp.test<"))
        }
    }

    @Test("behind an https public URL the session cookie is Secure")
    func secureCookieBehindHTTPS() async throws {
        let fixture = try WebFixture(publicURL: "https://retract.example.com")
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            let response = try await browser.signIn()
            let cookie = response.headers[values: .setCookie].first { $0.hasPrefix("retract_session=") } ?? ""
            let attributes = Set(
                cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(attributes.contains("Secure"))
            #expect(attributes.contains("HttpOnly"))
        }
    }

    @Test("a wrong password shows the form again with 401 and sets no session")
    func wrongPassword() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            let response = try await browser.signIn(password: "not the password")
            #expect(response.status == .unauthorized)
            #expect(response.text.contains("id=\"sign-in-error\""))
            #expect(browser.cookies["retract_session"] == nil)
            let redirect = try await browser.request("/app/messages")
            #expect(redirect.status == .seeOther)
        }
    }

    @Test("after five wrong passwords the sign-in answers 429 with Retry-After, even with the right one")
    func tooManyAttempts() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            for _ in 0..<5 {
                let response = try await browser.signIn(password: "wrong password!")
                #expect(response.status == .unauthorized)
            }
            let response = try await browser.signIn()
            #expect(response.status == .tooManyRequests)
            let retryAfter = Int(response.headers[.retryAfter] ?? "") ?? 0
            #expect(retryAfter > 0)
            #expect(browser.cookies["retract_session"] == nil)
        }
    }

    @Test("a sign-in without its form token is refused with 403")
    func signInWithoutToken() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            let response = try await browser.post(
                "/app/sign-in", [("address", WebTestAccount.alice), ("password", WebTestAccount.password)])
            #expect(response.status == .forbidden)
            #expect(browser.cookies["retract_session"] == nil)
        }
    }

    @Test("an app page without a session redirects to sign-in and comes back after it")
    func redirectsToSignIn() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            let response = try await browser.request("/app/compose")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/app/sign-in?next=/app/compose")
            let (_, html) = try await browser.page("/app/sign-in?next=/app/compose")
            let token = WebTestBrowser.hidden("csrf", in: html) ?? ""
            let signedIn = try await browser.post(
                "/app/sign-in",
                [
                    ("csrf", token), ("next", "/app/compose"), ("address", WebTestAccount.alice),
                    ("password", WebTestAccount.password),
                ])
            #expect(signedIn.headers[.location] == "/app/compose")
        }
    }

    @Test("a session idle longer than the timeout goes back to sign-in with a notice")
    func idleExpiry() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            fixture.bench.clock.advance(fixture.service.configuration.sessionIdleTimeout + 60)
            let response = try await browser.request("/app/messages")
            #expect(response.status == .seeOther)
            let location = response.headers[.location] ?? ""
            #expect(location.hasPrefix("/app/sign-in?") && location.contains("notice=expired"))
            let (_, html) = try await browser.page(location)
            #expect(html.contains("id=\"flash\""))
            #expect(html.contains("period without activity"))
        }
    }

    @Test("sign-out without the CSRF token is refused with 403; with it the session ends")
    func signOut() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let refused = try await browser.post("/app/sign-out", [])
            #expect(refused.status == .forbidden)
            #expect(try await browser.request("/app/messages").status == .ok)
            let token = try await browser.csrf()
            let stale = browser.cookies["retract_session"] ?? ""
            let response = try await browser.post("/app/sign-out", [("csrf", token)])
            #expect(response.status == .seeOther)
            #expect(browser.cookies["retract_session"] == nil)
            #expect(await fixture.service.webSession(cookieValue: stale) == nil)
        }
    }
}
