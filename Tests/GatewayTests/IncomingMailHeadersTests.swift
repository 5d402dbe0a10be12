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

    @Test("folded, encoded and bare-LF headers are read, and the body is left to the extractor")
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
        // And the body is not read with the headers (the extractor's streaming pass reads it)
        #expect(headers.other.isEmpty)
    }

    @Test("the fields that mark a recall request or automatic mail are read, decoded, once")
    func otherFields() throws {
        let headers = try read(
            "From: a@corp.test\r\nThread-Topic: =?utf-8?B?5pKk5Zue?=\r\nX-MS-TrafficTypeDiagnostic: AB:EE_MessageRecallEmail\r\n"
                + "Auto-Submitted: auto-replied\r\nPrecedence: bulk\r\n\r\nbody\r\n")
        #expect(headers.other[.threadTopic] == "撤回")
        #expect(headers.other[.trafficTypeDiagnostic] == "AB:EE_MessageRecallEmail")
        #expect(headers.other[.autoSubmitted] == "auto-replied")
        #expect(headers.other[.precedence] == "bulk")
        #expect(headers.other[.recallReportGenerated] == nil)
    }

    @Test("the fallback parse gives a small message's bodies, and nothing for one over the limit")
    func fallbackBodies() throws {
        let bench = try TestBench()
        let small = bench.root.appendingPathComponent("small.eml")
        try Data("Subject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n".utf8).write(to: small)
        #expect(IncomingMailHeaders.fallbackBodies(file: small)?.text?.contains("hello") == true)
        let large = bench.root.appendingPathComponent("large.eml")
        try Data(("Subject: s\r\n\r\n" + String(repeating: "x", count: IncomingMailHeaders.maximumParsedSize)).utf8)
            .write(to: large)
        #expect(IncomingMailHeaders.fallbackBodies(file: large) == nil)
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
