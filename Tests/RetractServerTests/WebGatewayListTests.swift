import Foundation
import HummingbirdTesting
import RetractCore
import Testing

/// Gateway mail is in the sender's web app like any other, marked as such.
@Suite("Web app: messages from the SMTP gateway")
struct WebGatewayListTests {
    @Test("the list marks a message the gateway received, and only that one")
    func listMarksGatewayMail() async throws {
        // Given one message alice sent through the gateway and one through the web app's service
        let fixture = try WebFixture()
        let file = fixture.bench.root.appendingPathComponent("incoming.eml")
        try Data("From: Alice <alice@corp.test>\r\nTo: bob@partner.test\r\nSubject: From Outlook\r\n\r\nhi\r\n".utf8)
            .write(to: file)
        let gateway = try await fixture.service.acceptIncomingMail(
            IncomingMail(
                file: file, envelopeSender: WebTestAccount.alice, sender: WebTestAccount.alice,
                recipients: [.init(address: "bob@partner.test", sealed: true)], subject: "From Outlook",
                traceField: "Received: from mx (127.0.0.1) by retract.test; Thu, 03 Dec 2026 12:00:00 +0000"),
            headers: try IncomingMailHeaders.read(file: file))
        let direct = try await fixture.service.send(
            Draft(from: WebTestAccount.alice, to: ["bob@partner.test"], subject: "From the web", body: "b"))

        // When alice opens her list
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let (_, list) = try await browser.page("/app/messages")

            // Then the gateway message carries the mark and the other does not
            #expect(list.contains("id=\"via-gateway-\(gateway.messageID)\""))
            #expect(list.contains("via the mail gateway"))
            #expect(!list.contains("id=\"via-gateway-\(direct.messageID)\""))
        }
    }
}
