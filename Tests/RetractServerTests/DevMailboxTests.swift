import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Testing

@Suite("The dev mailbox")
struct DevMailboxTests {
    @Test("with the file outbox it lists each delivered mail and shows its headers, text part and link")
    func listsAndShowsMail() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "Alice <alice@corp.test>", to: ["bob@partner.test"], subject: "季度 <report>", body: "b"))
        let router = try await buildRouter(service: bench.service, devMailbox: bench.configuration.outboxDirectory)
        let id = try #require(
            try FileManager.default.contentsOfDirectory(atPath: bench.configuration.outboxDirectory.path).first)
            .replacingOccurrences(of: ".eml", with: "")
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/dev/mailbox", method: .get) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains("季度 &lt;report&gt;"))
                #expect(html.contains("/dev/mailbox/\(id)"))
            }
            try await client.execute(uri: "/dev/mailbox/\(id)", method: .get) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body ?? ByteBuffer())
                #expect(html.contains(receipt.recipients[0].link))
                #expect(html.contains("Reply-To"))
            }
            try await client.execute(uri: "/dev/mailbox/..%2Fvault", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("without the dev mailbox (SMTP or a public bind) the route does not exist")
    func absentOtherwise() async throws {
        let bench = try TestBench()
        try await Application(router: try await buildRouter(service: bench.service)).test(.router) { client in
            try await client.execute(uri: "/dev/mailbox", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("the dev mailbox exists only with the file outbox on a loopback bind")
    func onlyFileOutboxOnLoopback() {
        var configuration = RetractConfiguration()
        #expect(devMailboxDirectory(configuration, host: "127.0.0.1") == configuration.outboxDirectory)
        #expect(devMailboxDirectory(configuration, host: "localhost") != nil)
        #expect(devMailboxDirectory(configuration, host: "::1") != nil)
        #expect(devMailboxDirectory(configuration, host: "0.0.0.0") == nil)
        #expect(devMailboxDirectory(configuration, host: "192.0.2.7") == nil)
        configuration.smtpURL = "smtp://127.0.0.1:25"
        #expect(devMailboxDirectory(configuration, host: "127.0.0.1") == nil)
    }
}
