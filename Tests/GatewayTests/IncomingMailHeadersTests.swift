import Foundation
import RetractCore
import RetractTestSupport
import Testing

@Suite("Reading a received message's headers")
struct IncomingMailHeadersTests {
    func read(_ text: String) throws -> IncomingMailHeaders {
        let bench = try TestBench()
        let file = bench.root.appendingPathComponent("m.eml")
        try Data(text.utf8).write(to: file)
        return try IncomingMailHeaders.read(file: file)
    }

    @Test("folded, encoded and bare-LF headers are read, and the text part is found")
    func readsHeaders() throws {
        // Given a message with folded To, an encoded subject, bare LF line ends
        let headers = try read(
            "From: =?UTF-8?B?5byg5LiJ?= <zhang@corp.test>\nTo: a@x.test,\n b@y.test\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= [secure]\n"
                + "Reply-To: Desk <desk@corp.test>\nMessage-ID: <m1@corp.test>\nReferences: <r1@x.test> junk <r2@x.test>\n\nbody line\n"
        )

        // Then every field is read
        #expect(headers.from?.address == "zhang@corp.test")
        #expect(headers.from?.displayName == "张三")
        #expect(headers.to.map(\.address) == ["a@x.test", "b@y.test"])
        #expect(headers.subject == "Grüße [secure]")
        #expect(headers.replyTo?.address == "desk@corp.test")
        #expect(headers.messageID == "<m1@corp.test>")
        #expect(headers.references == ["<r1@x.test>", "<r2@x.test>"])
        #expect(headers.textBody?.contains("body line") == true)
    }

    @Test("odd headers are left out instead of refusing the message")
    func oddHeaders() throws {
        // Given a message whose To does not parse, with no Message-ID and no empty line
        let headers = try read("From: alice@corp.test\r\nTo: <<<\r\nIn-Reply-To: not an id\r\nSubject: hi")

        // Then the rest is still read
        #expect(headers.from?.address == "alice@corp.test")
        #expect(headers.to.isEmpty)
        #expect(headers.inReplyTo == nil)
        #expect(headers.messageID == nil)
    }

    @Test("an unreadable file is an error, not an empty message")
    func unreadable() throws {
        #expect(throws: RetractError.self) {
            try IncomingMailHeaders.read(file: URL(fileURLWithPath: "/nonexistent/m.eml"))
        }
    }
}
