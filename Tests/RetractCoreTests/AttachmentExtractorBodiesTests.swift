import Foundation
import Testing

@testable import RetractCore

/// The gateway's one pass over a received message also keeps its text and HTML bodies
/// (decoded from their charsets) and each extracted part's Content-ID, whatever the size.
@Suite("Attachment extraction: bodies and Content-IDs")
struct AttachmentExtractorBodiesTests {
    func extract(_ bytes: [UInt8]) throws -> (AttachmentExtractor.Extraction, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("extract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("in.eml")
        try Data(bytes).write(to: file)
        return (AttachmentExtractor.extractWithBodies(from: file, into: directory, limit: 10), directory)
    }

    @Test("text and HTML bodies in their charsets, an inline image with its Content-ID")
    func related() throws {
        let mail = Array(
            """
            From: a@corp.test\r
            Content-Type: multipart/alternative; boundary=alt\r
            \r
            --alt\r
            Content-Type: text/plain; charset=koi8-r\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            =F0=D2=C9=D7=C5=D4\r
            --alt\r
            Content-Type: multipart/related; boundary=rel\r
            \r
            --rel\r
            Content-Type: text/html; charset="big5"\r
            Content-Transfer-Encoding: base64\r
            \r
            PHA+pKSk5TwvcD4=\r
            --rel\r
            Content-Type: image/png\r
            Content-ID: <logo@corp.test>\r
            Content-Disposition: inline\r
            Content-Transfer-Encoding: base64\r
            \r
            iVBORw0KGgo=\r
            --rel--\r
            --alt--\r

            """.utf8)
        let (extraction, directory) = try extract(mail)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(extraction.text == "Привет")
        #expect(extraction.html == "<p>中文</p>")
        #expect(!extraction.htmlTooLarge)
        #expect(extraction.parts.count == 1)
        #expect(extraction.parts.first?.contentID == "logo@corp.test")
        #expect(extraction.parts.first?.mediaType == "image/png")
        #expect(
            try Data(contentsOf: extraction.parts[0].url) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    @Test("an HTML body over the limit is left out and marked; a long text body is cut with a note")
    func bounded() throws {
        let big = String(repeating: "<p>x</p>\r\n", count: AttachmentExtractor.maximumBody / 10 + 10)
        let mail = Array(
            ("Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + big
                + "\r\n--b\r\nContent-Type: text/html\r\n\r\n" + big + "\r\n--b--\r\n").utf8)
        let (extraction, directory) = try extract(mail)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(extraction.html == nil)
        #expect(extraction.htmlTooLarge)
        #expect(extraction.text?.hasSuffix("The rest of this text is in the original message (original.eml).") == true)
    }

    @Test(
        "Content-IDs are kept only when they are printable ASCII",
        arguments: [
            ("<a@b>", "a@b"), (" <part1.x@y> ", "part1.x@y"), ("bare@id", "bare@id"), ("<>", nil), ("<a b@c>", nil),
            ("", nil),
        ] as [(String, String?)])
    func contentIDs(_ raw: String, _ expected: String?) {
        #expect(AttachmentExtractor.contentID(raw) == expected)
    }
}
