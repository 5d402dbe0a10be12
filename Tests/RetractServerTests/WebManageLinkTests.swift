import Foundation
import HummingbirdTesting
import Mail
import RetractCore
import Sodium
import Testing

/// The manage link in a gateway receipt: the sender who never signs in to the web app opens
/// their message's page from it, sees who opened it and revokes, and nothing else.
@Suite("Web app: the manage link of a gateway receipt")
struct WebManageLinkTests {
    /// Alice's gateway message to bob@partner.test, delivered: its id and the manage link
    /// the receipt carries.
    static func gatewayMessage(_ fixture: WebFixture, subject: String = "From Outlook") async throws -> (
        id: String, manageLink: String
    ) {
        let file = fixture.bench.root.appendingPathComponent("incoming-\(UUID().uuidString).eml")
        try Data("From: Alice <alice@corp.test>\r\nTo: bob@partner.test\r\nSubject: \(subject)\r\n\r\nhi\r\n".utf8)
            .write(to: file)
        let accepted = try await fixture.service.acceptIncomingMail(
            IncomingMail(
                file: file, envelopeSender: WebTestAccount.alice, sender: WebTestAccount.alice,
                recipients: [.init(address: "bob@partner.test", sealed: true)], subject: subject,
                traceField: "Received: from mx (127.0.0.1) by retract.test; Thu, 03 Dec 2026 12:00:00 +0000"),
            headers: try IncomingMailHeaders.read(file: file))
        _ = await fixture.service.deliverDueMail()
        let receipt = try #require(
            try fixture.service.vault.outboxMail(messageID: accepted.messageID).first { $0.kind == .receipt })
        let bytes = try Data(
            contentsOf: fixture.bench.configuration.outboxDirectory.appendingPathComponent("\(receipt.id).eml"))
        let parsed = try ParsedMail(parsing: [UInt8](bytes))
        let link = try #require(parsed.links.first { $0.contains("/app/manage#") })
        #expect(parsed.htmlBody?.contains(link) == true)
        return (accepted.messageID, link)
    }

    /// The capability: what follows `#` in the link.
    static func capability(_ link: String) -> String {
        String(link[link.range(of: "#")!.upperBound...])
    }

    /// Opens the manage page and posts the capability the way its script does.
    static func openManageLink(_ browser: inout WebTestBrowser, capability: String) async throws -> TestResponse {
        let (page, html) = try await browser.page("/app/manage")
        #expect(page.status == .ok)
        let csrf = try #require(WebTestBrowser.hidden("csrf", in: html))
        return try await browser.post("/app/manage", [("csrf", csrf), ("capability", capability)])
    }

    @Test("the receipt's link is 256 random bits in the fragment, and the vault keeps only its hash")
    func linkShapeAndStorage() async throws {
        // Given a gateway message with its receipt delivered
        let fixture = try WebFixture()
        let (id, link) = try await Self.gatewayMessage(fixture)

        // Then the link is the public URL's manage page with 43 base64url characters after '#'
        let capability = Self.capability(link)
        #expect(link.hasPrefix(fixture.bench.configuration.publicURL + "/app/manage#"))
        #expect(capability.utf8.count == 43)
        #expect(capability.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })

        // And the vault file holds neither the capability nor its bytes, only a hash
        let hash = try #require(ManageLink.hash(capability: capability))
        #expect(try fixture.service.vault.manageLink(hash: hash, now: fixture.bench.clock.now)?.messageID == id)
        let raw = Data(try Base64URL.decode(capability))
        let directory = fixture.bench.configuration.dataDirectory
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
        where name.hasPrefix("vault.sqlite") {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
            #expect(bytes.range(of: Data(capability.utf8)) == nil, "\(name)")
            #expect(bytes.range(of: raw) == nil, "\(name)")
        }

        // And two messages get two different links
        let (_, other) = try await Self.gatewayMessage(fixture, subject: "Second")
        #expect(other != link)
    }

    @Test("the link opens the message's page without a password, and that page revokes")
    func opensAndRevokes() async throws {
        let fixture = try WebFixture()
        let (id, link) = try await Self.gatewayMessage(fixture)
        try await fixture.app().test(.router) { client in
            // Given a browser that never signed in
            var browser = WebTestBrowser(client)

            // When it follows the manage link
            let opened = try await Self.openManageLink(&browser, capability: Self.capability(link))

            // Then it lands on the message's page, signed in for that message only
            #expect(opened.status == .seeOther || opened.status == .found)
            #expect(opened.headers[.location] == "/app/messages/\(id)")
            let (page, html) = try await browser.page("/app/messages/\(id)")
            #expect(page.status == .ok)
            #expect(html.contains("bob@partner.test"))
            #expect(!html.contains("id=\"nav-compose\""))
            #expect(!html.contains("id=\"back-link\""))

            // And its revoke form works: revoking reports bob's link as revoked
            let csrf = try #require(WebTestBrowser.hidden("csrf", in: html))
            let report = try await browser.post(
                "/app/messages/\(id)/revoke",
                [("csrf", csrf), ("scope", "all"), ("reason", "wrong file"), ("notify", "all"), ("action", "confirm")])
            #expect(report.status == .ok)
            #expect(report.text.contains("bob@partner.test"))
            let status = try fixture.service.status(messageID: id, sender: WebTestAccount.alice)
            #expect(status.recipients.allSatisfy { $0.state == "revoked" })
        }
    }

    @Test("a manage link's session sees its own message only: no list, no compose, no other message")
    func scopedToOneMessage() async throws {
        let fixture = try WebFixture()
        let (_, link) = try await Self.gatewayMessage(fixture)
        let other = try await fixture.service.send(
            Draft(from: WebTestAccount.alice, to: ["bob@partner.test"], subject: "Another", body: "b"))
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await Self.openManageLink(&browser, capability: Self.capability(link))
            for path in ["/app/messages", "/app/compose", "/app/messages/\(other.messageID)"] {
                let response = try await browser.request(path)
                #expect(response.status == .seeOther || response.status == .found, "\(path)")
                #expect(response.headers[.location]?.hasPrefix("/app/sign-in?next=") == true, "\(path)")
            }
            // And the sign-in page is shown (not skipped) for such a session
            let (signIn, html) = try await browser.page("/app/sign-in?next=/app/messages")
            #expect(signIn.status == .ok)
            #expect(html.contains("id=\"sign-in-form\""))
        }
    }

    @Test("an unknown, malformed, expired or withdrawn link gets the same 404 page and no session")
    func refusals() async throws {
        let fixture = try WebFixture()
        let (id, link) = try await Self.gatewayMessage(fixture)
        let capability = Self.capability(link)
        try await fixture.app().test(.router) { client in
            // A malformed one, an unknown one of the right shape, and an empty one
            for wrong in ["not-a-capability", String(repeating: "A", count: 43), ""] {
                var browser = WebTestBrowser(client)
                let response = try await Self.openManageLink(&browser, capability: wrong)
                #expect(response.status == .notFound)
                #expect(response.text.contains("This link does not open a message"))
                #expect(browser.cookies["retract_session"] == nil)
            }
            // A post without the page's CSRF cookie is refused before anything is looked up
            var stranger = WebTestBrowser(client)
            let forged = try await stranger.post("/app/manage", [("csrf", "x"), ("capability", capability)])
            #expect(forged.status == .forbidden)
        }

        // After the message expires, the link opens nothing
        fixture.bench.clock.advance(fixture.bench.configuration.defaultExpiry + 1)
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            let late = try await Self.openManageLink(&browser, capability: capability)
            #expect(late.status == .notFound)
        }
        #expect(try fixture.service.vault.message(id: id) != nil)
    }

    @Test("removing the sender withdraws the link for good, also when the account comes back")
    func refusedAfterSenderRemoval() async throws {
        let fixture = try WebFixture()
        let (_, link) = try await Self.gatewayMessage(fixture)
        try await fixture.app().test(.router) { client in
            // Given a session begun with the link
            var browser = WebTestBrowser(client)
            _ = try await Self.openManageLink(&browser, capability: Self.capability(link))

            // When the operator removes alice and adds her again
            try fixture.service.removeSender(address: WebTestAccount.alice)
            _ = try fixture.service.addSender(address: WebTestAccount.alice, name: "Alice")

            // Then the old session is gone and the link opens nothing
            let (_, html) = try await browser.page("/app/sign-in")
            #expect(html.contains("id=\"sign-in-form\""))
            var fresh = WebTestBrowser(client)
            let again = try await Self.openManageLink(&fresh, capability: Self.capability(link))
            #expect(again.status == .notFound)
        }
    }

    @Test("the manage page is strict: no inline code, the strict CSP, and the capability travels in a POST body, not in the form's URL")
    func managePageIsStrict() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            let (page, html) = try await browser.page("/app/manage")
            #expect(page.status == .ok)
            #expect(!hasInlineCode(html))
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(html.contains("action=\"/app/manage\""))
            #expect(html.contains("method=\"post\""))
        }
    }
}
