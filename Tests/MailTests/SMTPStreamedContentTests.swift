import Foundation
import NIOCore
import RetractTestSupport
import Testing

@testable import Mail

/// A message given piece by piece, in the pieces it is given in.
final class PiecewiseSource: MailContentSource {
    let pieces: [[UInt8]]
    /// After this many pieces the reader throws instead of giving the next.
    let failAfter: Int?

    init(_ pieces: [[UInt8]], failAfter: Int? = nil) {
        self.pieces = pieces
        self.failAfter = failAfter
    }

    var size: Int64 { Int64(pieces.reduce(0) { $0 + $1.count }) }

    func makeReader() throws(MailError) -> any MailContentReader { Reader(source: self) }

    final class Reader: MailContentReader {
        let source: PiecewiseSource
        var next = 0

        init(source: PiecewiseSource) { self.source = source }

        func nextChunk() throws(MailError) -> [UInt8]? {
            if let failAfter = source.failAfter, next == failAfter {
                throw MailError.contentUnreadable("the test source fails here", temporary: true)
            }
            guard next < source.pieces.count else { return nil }
            next += 1
            return source.pieces[next - 1]
        }
    }
}

/// Streamed content (`MailContent.streamed`): prepared for DATA piece by piece exactly as
/// it would be whole, and sent by the SMTP client without ever holding it whole.
@Suite("SMTP streamed content")
struct SMTPStreamedContentTests {
    /// The encoder's cases: content in, DATA bytes out (with the final dot line).
    static let cases: [(String, String)] = [
        ("Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n"),
        (".hidden line\r\n", "..hidden line\r\n.\r\n"),
        ("a\r\n..b\r\n", "a\r\n...b\r\n.\r\n"),
        ("before\r\n.\r\nafter\r\n", "before\r\n..\r\nafter\r\n.\r\n"),
        (".", "..\r\n.\r\n"),
        ("unix\nline\n.\nend", "unix\r\nline\r\n..\r\nend\r\n.\r\n"),
        ("old mac\rline\r.dot", "old mac\r\nline\r\n..dot\r\n.\r\n"),
        ("a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"),
        ("no final line ending", "no final line ending\r\n.\r\n"),
        ("\r\n.", "\r\n..\r\n.\r\n"),
        ("x\r\n.\r\n.y\n\r.z\r", "x\r\n..\r\n..y\r\n\r\n..z\r\n.\r\n"),
    ]

    private static func stuffed(_ pieces: [[UInt8]]) -> String {
        var stuffer = SMTPDotStuffer()
        var out = ByteBuffer()
        for piece in pieces { stuffer.stuff(piece, into: &out) }
        stuffer.finish(into: &out, terminated: true)
        return String(buffer: out)
    }

    @Test("cut anywhere into two or three pieces, content is prepared exactly as whole")
    func everyCut() {
        for (input, wire) in Self.cases {
            let bytes = Array(input.utf8)
            #expect(Self.stuffed([bytes]) == wire)
            for first in 0...bytes.count {
                #expect(Self.stuffed([Array(bytes[..<first]), Array(bytes[first...])]) == wire, "cut at \(first)")
                for second in first...bytes.count {
                    let pieces = [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])]
                    #expect(Self.stuffed(pieces) == wire, "cut at \(first) and \(second)")
                }
            }
        }
    }

    @Test("a CR ending one piece and the LF starting the next are one line ending")
    func crlfAcrossPieces() {
        #expect(Self.stuffed([Array("one\r".utf8), Array("\ntwo\r\n".utf8)]) == "one\r\ntwo\r\n.\r\n")
        #expect(Self.stuffed([Array("one\r".utf8), Array("\r\ntwo".utf8)]) == "one\r\n\r\ntwo\r\n.\r\n")
    }

    @Test("a line starting with a dot at the start of a piece is stuffed, one in the middle of a line is not")
    func dotAtPieceStart() {
        #expect(Self.stuffed([Array("a\r\n".utf8), Array(".b\r\n".utf8)]) == "a\r\n..b\r\n.\r\n")
        #expect(Self.stuffed([Array("a".utf8), Array(".b\r\n".utf8)]) == "a.b\r\n.\r\n")
        #expect(Self.stuffed([Array(".".utf8), Array(".\r\n".utf8)]) == "...\r\n.\r\n")
    }

    @Test("a final line without CRLF gets one before the final dot, also when the last piece is empty")
    func finalLineWithoutLineEnd() {
        #expect(Self.stuffed([Array("last".utf8), []]) == "last\r\n.\r\n")
        #expect(Self.stuffed([Array("last\r".utf8), []]) == "last\r\n.\r\n")
        #expect(Self.stuffed([]) == ".\r\n")
    }

    /// A message of about 300 KiB with dot lines and line ends at awkward places, in odd pieces.
    static func awkwardMessage() -> (pieces: [[UInt8]], received: [UInt8]) {
        var text = "From: a@example.org\r\nTo: b@example.org\r\nSubject: streamed\r\n\r\n.first body line\r\n"
        for line in 0..<6000 { text += line % 7 == 0 ? ".dot line \(line)\r\n" : "line \(line) of the body\r\n" }
        text += ".\r\n..\r\nthe last line has no line end"
        let bytes = Array(text.utf8)
        var pieces: [[UInt8]] = []
        var start = 0
        for size in [1, 2, 7, 65_539, 3, 100_000, 13] where start < bytes.count {
            let end = min(bytes.count, start + size)
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        pieces.append(Array(bytes[start...]))
        // What arrives: the same, with the final line end the client adds.
        return (pieces, bytes + Array("\r\n".utf8))
    }

    @Test("a streamed mail reaches aiosmtpd byte for byte, with and without PIPELINING, beside mails in memory")
    func streamedDelivery() async throws {
        let directory = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for options in [[], ["--pipelining"]] {
            let sink = try await SMTPSink(options, in: directory)
            defer { sink.stop() }
            let transport = SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)"))
            let (pieces, expected) = Self.awkwardMessage()
            let envelope = MailEnvelope(mailFrom: "a@example.org", recipients: ["b@example.org"])
            let small = Array("Subject: small\r\n\r\nin memory\r\n".utf8)
            let outcomes = Outcomes()
            await transport.deliverInOrder(
                contents: [
                    OutboundMail(content: .bytes(small), envelope: envelope, id: "small-1"),
                    OutboundMail(content: .streamed(PiecewiseSource(pieces)), envelope: envelope, id: "big"),
                    OutboundMail(content: .bytes(small), envelope: envelope, id: "small-2"),
                ], gate: { _ in true }, outcome: { await outcomes.add($0, $1) })
            await transport.close()

            #expect(await outcomes.delivered == [0, 1, 2])
            let received = try sink.received()
            try #require(received.count == 3)
            let big = try #require(received.first { $0.data.count > 1000 })
            #expect(big.data == expected)
            #expect(received.filter { $0.data == small }.count == 2)
        }
    }

    @Test("a source that fails part-way fails its mail, the server keeps nothing of it, and the next mail goes out")
    func failingSource() async throws {
        let directory = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try await SMTPSink(["--pipelining"], in: directory)
        defer { sink.stop() }
        let transport = SMTPTransport(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)"))
        let envelope = MailEnvelope(mailFrom: "a@example.org", recipients: ["b@example.org"])
        let failing = PiecewiseSource(Self.awkwardMessage().pieces, failAfter: 3)
        let small = Array("Subject: after\r\n\r\nstill delivered\r\n".utf8)
        let outcomes = Outcomes()
        await transport.deliverInOrder(
            contents: [
                OutboundMail(content: .streamed(failing), envelope: envelope, id: "broken"),
                OutboundMail(content: .bytes(small), envelope: envelope, id: "after"),
            ], gate: { _ in true }, outcome: { await outcomes.add($0, $1) })
        await transport.close()

        let failure = try #require(await outcomes.failures[0])
        #expect(failure == MailError.contentUnreadable)
        #expect(failure.isTemporary)
        #expect(await outcomes.delivered == [1])
        #expect(try sink.received().map(\.data) == [small])
    }

    @Test("a transport that cannot stream gets the content read whole (the file outbox)")
    func materializedByDefault() async throws {
        let directory = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let transport = FileOutboxTransport(directory: directory)
        let (pieces, _) = Self.awkwardMessage()
        let outcomes = Outcomes()
        await transport.deliverInOrder(
            contents: [
                OutboundMail(
                    content: .streamed(PiecewiseSource(pieces, failAfter: 2)),
                    envelope: MailEnvelope(mailFrom: "a@example.org", recipients: ["b@example.org"]), id: "broken"),
                OutboundMail(
                    content: .streamed(PiecewiseSource(pieces)),
                    envelope: MailEnvelope(mailFrom: "a@example.org", recipients: ["b@example.org"]), id: "whole"),
            ], gate: { _ in true }, outcome: { await outcomes.add($0, $1) })
        #expect(await outcomes.failures[0] == MailError.contentUnreadable)
        #expect(await outcomes.delivered == [1])
        let file = try transport.fileURL(for: "whole")
        #expect(FileManager.default.contents(atPath: file.path).map(Array.init) == pieces.flatMap { $0 })
    }
}

/// What `deliverInOrder` announced, by index.
actor Outcomes {
    private(set) var delivered: [Int] = []
    private(set) var failures: [Int: MailError] = [:]

    func add(_ index: Int, _ result: Result<Bool, MailError>) {
        switch result {
        case .success(true): delivered.append(index)
        case .success(false): break
        case .failure(let error): failures[index] = error
        }
    }
}
