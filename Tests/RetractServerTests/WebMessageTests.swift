import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Seal
import Testing

@Suite("Web app: messages, revocation, language, page safety")
struct WebMessageTests {
    /// Alice's message to two partners, delivered at once.
    func sendAsAlice(_ fixture: WebFixture, delay: TimeInterval? = nil) async throws -> SendReceipt {
        try await fixture.service.send(
            Draft(
                from: "Alice <alice@corp.test>", to: ["bob@partner.test", "carol@partner.test"],
                subject: "Price list", body: "The old prices.", delay: delay))
    }

    @Test("another sender's message is a 404 page, for viewing, revoking and undoing alike")
    func otherSendersMessage() async throws {
        let fixture = try WebFixture()
        let receipt = try await sendAsAlice(fixture)
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn(WebTestAccount.bob)
            let csrf = try await browser.csrf()
            let path = "/app/messages/\(receipt.messageID)"
            let view = try await browser.request(path)
            #expect(view.status == .notFound)
            #expect(!view.text.contains("Price list"))
            let revoke = try await browser.post(path + "/revoke", [("csrf", csrf), ("action", "confirm")])
            #expect(revoke.status == .notFound)
            let cancel = try await browser.post(path + "/cancel", [("csrf", csrf)])
            #expect(cancel.status == .notFound)
            let unknown = try await browser.request("/app/messages/nonexistent")
            #expect(unknown.status == .notFound)
            let (_, list) = try await browser.page("/app/messages")
            #expect(!list.contains(receipt.messageID))
        }
        let status = try fixture.service.status(messageID: receipt.messageID, sender: WebTestAccount.alice)
        #expect(status.recipients.allSatisfy { $0.state == "live" })
    }

    @Test("revoke shows each recipient's notice first and changes nothing; confirming shows the recall report")
    func revokePreviewThenReport() async throws {
        let fixture = try WebFixture()
        let receipt = try await sendAsAlice(fixture)
        let bobLink = try Link.parse(receipt.recipients[0].link)
        _ = try await fixture.service.open(token: bobLink.token, linkKey: bobLink.linkKey)
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let path = "/app/messages/\(receipt.messageID)"
            let (_, page) = try await browser.page(path)
            #expect(page.contains("id=\"revoke-form\""))
            let csrf = WebTestBrowser.hidden("csrf", in: page) ?? ""
            let fields = [
                ("csrf", csrf), ("scope", "all"), ("reason", "Wrong prices"), ("notify", "all"),
                ("correction_subject", "Price list (corrected)"), ("correction_body", "The new prices."),
            ]
            let preview = try await browser.post(path + "/revoke", fields + [("action", "preview")])
            #expect(preview.status == .ok)
            #expect(preview.text.contains("data-notice=\"correction\""))
            #expect(preview.text.contains("Wrong prices"))
            #expect(preview.text.contains("id=\"revoke-confirm\""))
            let untouched = try fixture.service.status(messageID: receipt.messageID, sender: WebTestAccount.alice)
            #expect(untouched.recipients.allSatisfy { $0.state == "live" })

            let back = try await browser.post(path + "/revoke", fields + [("action", "edit")])
            #expect(back.text.contains(">Wrong prices</textarea>"))
            #expect(back.text.contains("value=\"Price list (corrected)\""))

            let report = try await browser.post(path + "/revoke", fields + [("action", "confirm")])
            #expect(report.status == .ok)
            #expect(report.text.contains("id=\"report\""))
            #expect(report.text.contains("data-outcome=\"revoked_after_open\""))
            #expect(report.text.contains("data-outcome=\"revoked_before_open\""))
            #expect(report.text.contains("id=\"report-replacement\""))
        }
        let status = try fixture.service.status(messageID: receipt.messageID, sender: WebTestAccount.alice)
        #expect(status.recipients.allSatisfy { $0.state == "revoked" })
        #expect(status.recipients.allSatisfy { $0.replacementId != nil })
    }

    @Test("revoking chosen recipients leaves the others live")
    func revokeChosen() async throws {
        let fixture = try WebFixture()
        let receipt = try await sendAsAlice(fixture)
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let response = try await browser.post(
                "/app/messages/\(receipt.messageID)/revoke",
                [
                    ("csrf", csrf), ("scope", "chosen"), ("recipient", "carol@partner.test"), ("notify", "all"),
                    ("action", "confirm"),
                ])
            #expect(response.status == .ok)
        }
        let status = try fixture.service.status(messageID: receipt.messageID, sender: WebTestAccount.alice)
        #expect(status.recipients.map(\.state) == ["live", "revoked"])
    }

    @Test("the language follows Accept-Language and the switch stores the choice in a cookie")
    func localeSwitch() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            browser.acceptLanguage = "zh-CN,zh;q=0.9,en;q=0.5"
            let (_, chinese) = try await browser.page("/app/sign-in")
            #expect(chinese.contains("<html lang=\"zh-Hans\">"))
            #expect(chinese.contains("登录"))

            browser.acceptLanguage = "en"
            _ = try await browser.signIn()
            let (_, english) = try await browser.page("/app/messages")
            #expect(english.contains("<html lang=\"en\">"))
            let switched = try await browser.request("/app/locale?to=zh-Hans&next=/app/messages")
            #expect(switched.status == .seeOther)
            #expect(switched.headers[.location] == "/app/messages")
            #expect(browser.cookies["retract_locale"] == "zh-Hans")
            let (_, after) = try await browser.page("/app/messages")
            #expect(after.contains("<html lang=\"zh-Hans\">"))
            #expect(after.contains("已发送邮件"))

            let offsite = try await browser.request("/app/locale?to=en&next=//evil.example/")
            #expect(offsite.headers[.location] == "/app/messages")
        }
    }

    @Test("every app page carries the strict CSP and has no inline script, style or handler")
    func everyPageIsStrict() async throws {
        let fixture = try WebFixture()
        let held = try await sendAsAlice(fixture, delay: 600)
        let delivered = try await sendAsAlice(fixture)
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            var pages: [(String, TestResponse)] = []
            pages.append(("sign-in", try await browser.request("/app/sign-in")))
            pages.append(("wrong password", try await browser.signIn(password: "wrong password!")))
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            pages.append(("compose", try await browser.request("/app/compose")))
            pages.append(
                (
                    "review",
                    try await browser.postMultipart(
                        "/app/compose", [("csrf", csrf), ("to", "x@partner.test"), ("subject", "s"), ("body", "b")])
                ))
            pages.append(
                (
                    "compose error",
                    try await browser.postMultipart("/app/compose", [("csrf", csrf), ("to", ""), ("action", "send")])
                ))
            pages.append(("list", try await browser.request("/app/messages")))
            pages.append(("held message", try await browser.request("/app/messages/\(held.messageID)")))
            let path = "/app/messages/\(delivered.messageID)"
            pages.append(("message", try await browser.request(path)))
            pages.append(
                (
                    "preview",
                    try await browser.post(path + "/revoke", [("csrf", csrf), ("reason", "r"), ("action", "preview")])
                ))
            pages.append(
                (
                    "report",
                    try await browser.post(path + "/revoke", [("csrf", csrf), ("reason", "r"), ("action", "confirm")])
                ))
            pages.append(("403", try await browser.post(path + "/revoke", [])))
            pages.append(("404", try await browser.request("/app/messages/unknown")))
            for (name, response) in pages {
                let csp = response.headers[.contentSecurityPolicy] ?? ""
                #expect(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), "\(name)")
                #expect(!csp.contains("unsafe-inline"), "\(name)")
                let inline = hasInlineCode(response.text)
                #expect(!inline, "\(name) has inline code")
                #expect(response.text.contains("<html lang="), "\(name)")
                #expect(response.text.contains("<h1"), "\(name)")
            }
        }
    }
}
