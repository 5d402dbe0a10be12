import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Testing

@Suite("Web app: compose, check, send, undo")
struct WebComposeTests {
    /// The compose fields of a small message to one partner.
    func draftFields(csrf: String, body: String = "Hi Bob, the figures are attached.", delay: String = "")
        -> [(String, String)]
    {
        [
            ("csrf", csrf), ("to", "bob@partner.test"), ("cc", ""), ("bcc", ""), ("subject", "季度数字 Q3"),
            ("body", body), ("expires", "7d"), ("max_views", ""), ("delay", delay), ("locale", "en"),
        ]
    }

    @Test("a compose form without its CSRF token is refused with 403 and sends nothing")
    func composeWithoutCSRF() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            var fields = draftFields(csrf: "")
            fields.removeFirst()
            let response = try await browser.postMultipart("/app/compose", fields + [("action", "send")])
            #expect(response.status == .forbidden)
            let wrong = try await browser.postMultipart(
                "/app/compose", draftFields(csrf: "not-the-token") + [("action", "send")])
            #expect(wrong.status == .forbidden)
        }
        #expect(try fixture.service.list(sender: WebTestAccount.alice).isEmpty)
        #expect(try fixture.bench.deliveredMail().isEmpty)
    }

    @Test("checking a draft shows the findings and sends nothing; confirming sends it")
    func findingsThenConfirm() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let review = try await browser.postMultipart("/app/compose", draftFields(csrf: csrf))
            #expect(review.status == .ok)
            #expect(review.text.contains("data-code=\"missing_attachment\""))
            #expect(review.text.contains("id=\"send-button\""))
            #expect(try fixture.service.list(sender: WebTestAccount.alice).isEmpty)

            let sent = try await browser.postMultipart("/app/compose", draftFields(csrf: csrf) + [("action", "send")])
            #expect(sent.status == .seeOther)
            let location = sent.headers[.location] ?? ""
            #expect(location.hasPrefix("/app/messages/") && location.hasSuffix("?notice=sent"))
            let (page, html) = try await browser.page(location)
            #expect(page.status == .ok)
            #expect(html.contains("季度数字 Q3"))
        }
        let messages = try fixture.service.list(sender: WebTestAccount.alice)
        #expect(messages.count == 1)
        #expect(messages.first?.subject == "季度数字 Q3")
        let mail = try fixture.bench.deliveredMail()
        #expect(mail.count == 1)
        #expect(mail.first?.header("To")?.contains("bob@partner.test") == true)
    }

    @Test("an attachment uploaded for the check is sent with the confirmed message and then deleted")
    func attachmentKeptForConfirm() async throws {
        let fixture = try WebFixture()
        let bytes = [UInt8](repeating: 0x41, count: 5000)
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let review = try await browser.postMultipart(
                "/app/compose", draftFields(csrf: csrf), files: [("attachments", "figures.csv", bytes)])
            #expect(review.status == .ok)
            #expect(!review.text.contains("data-code=\"missing_attachment\""))
            #expect(review.text.contains("figures.csv"))
            let upload = WebTestBrowser.hidden("upload", in: review.text) ?? ""
            #expect(!upload.isEmpty)
            #expect(fixture.uploadedFiles().count == 1)

            let sent = try await browser.postMultipart(
                "/app/compose",
                draftFields(csrf: csrf) + [("upload", upload), ("keep_attachments", "on"), ("action", "send")])
            #expect(sent.status == .seeOther)
        }
        let id = try #require(try fixture.service.list(sender: WebTestAccount.alice).first?.id)
        #expect(try fixture.service.status(messageID: id, sender: WebTestAccount.alice).attachments == 1)
        #expect(fixture.uploadedFiles().isEmpty)
    }

    @Test("going back to edit from the check keeps every field and the uploaded attachment")
    func editKeepsDraft() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let review = try await browser.postMultipart(
                "/app/compose", draftFields(csrf: csrf) + [("verify", "on")],
                files: [("attachments", "notes.txt", Array("hello".utf8))])
            #expect(review.text.contains("id=\"summary-verify\""))
            let upload = WebTestBrowser.hidden("upload", in: review.text) ?? ""
            let edit = try await browser.postMultipart(
                "/app/compose",
                draftFields(csrf: csrf) + [
                    ("verify", "on"), ("upload", upload), ("keep_attachments", "on"),
                    ("action", "edit"),
                ])
            #expect(edit.status == .ok)
            #expect(edit.text.contains("id=\"compose-form\""))
            #expect(edit.text.contains("value=\"季度数字 Q3\""))
            #expect(edit.text.contains("id=\"verify\" name=\"verify\" type=\"checkbox\" checked"))
            #expect(edit.text.contains("notes.txt"))
            #expect(WebTestBrowser.hidden("upload", in: edit.text) == upload)
        }
        #expect(try fixture.service.list(sender: WebTestAccount.alice).isEmpty)
    }

    @Test("confirming with attachments that are no longer kept sends nothing and says to attach again")
    func expiredUploadRefused() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let response = try await browser.postMultipart(
                "/app/compose",
                draftFields(csrf: csrf) + [
                    ("upload", "0123456789abcdef0123456789abcdef"), ("keep_attachments", "on"),
                    ("action", "send"),
                ])
            #expect(response.status == .unprocessableContent)
            #expect(response.text.contains("id=\"compose-error\""))
        }
        #expect(try fixture.service.list(sender: WebTestAccount.alice).isEmpty)
    }

    @Test("a request over the upload limit answers 413 and keeps nothing")
    func uploadTooLarge() async throws {
        let fixture = try WebFixture(maxUploadBytes: 4096)
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let response = try await browser.postMultipart(
                "/app/compose", draftFields(csrf: csrf) + [("action", "send")],
                files: [("attachments", "big.bin", [UInt8](repeating: 7, count: 20_000))])
            #expect(response.status == .contentTooLarge)
            #expect(response.text.contains("id=\"page-heading\""))
        }
        #expect(fixture.uploadedFiles().isEmpty)
        #expect(try fixture.service.list(sender: WebTestAccount.alice).isEmpty)
    }

    @Test("with a send delay the message page counts down and Undo cancels every notification")
    func undoInsideDelay() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let sent = try await browser.postMultipart(
                "/app/compose", draftFields(csrf: csrf, delay: "60s") + [("action", "send")])
            let location = sent.headers[.location] ?? ""
            let (_, html) = try await browser.page(location)
            #expect(html.contains("id=\"undo-button\""))
            #expect(html.contains("aria-live=\"polite\""))
            #expect(html.contains("Held for undo until"))

            let path = String(location.split(separator: "?")[0])
            let refused = try await browser.post(path + "/cancel", [])
            #expect(refused.status == .forbidden)
            let undone = try await browser.post(path + "/cancel", [("csrf", csrf)])
            #expect(undone.status == .seeOther)
            #expect(undone.headers[.location]?.hasSuffix("?notice=cancelled") == true)
            let (_, after) = try await browser.page(undone.headers[.location] ?? "")
            #expect(!after.contains("id=\"undo-button\""))
        }
        fixture.bench.clock.advance(120)
        _ = await fixture.service.deliverDueMail()
        #expect(try fixture.bench.deliveredMail().isEmpty)
    }

    @Test("Undo after the notifications went out says to revoke instead (409)")
    func undoTooLate() async throws {
        let fixture = try WebFixture()
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let csrf = try await browser.csrf()
            let sent = try await browser.postMultipart("/app/compose", draftFields(csrf: csrf) + [("action", "send")])
            let path = String((sent.headers[.location] ?? "").split(separator: "?")[0])
            let response = try await browser.post(path + "/cancel", [("csrf", csrf)])
            #expect(response.status == .conflict)
            #expect(response.text.contains("Revoke the message instead"))
        }
    }
}
