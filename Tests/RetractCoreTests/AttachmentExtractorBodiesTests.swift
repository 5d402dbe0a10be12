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

    @Test("a format=flowed text body reads as its paragraphs; with delsp=yes in ISO-2022-JP without the wrap's space")
    func flowedBodies() throws {
        // Thunderbird's flowed UTF-8 (8bit), and Apple Mail's Japanese (7bit ISO-2022-JP, delsp=yes)
        let thunderbird = Array(
            """
            Content-Type: text/plain; charset=UTF-8; format=flowed\r
            Content-Transfer-Encoding: 8bit\r
            \r
            die Abweichung an Prüfstand B liegt \r
            weiterhin über dem Grenzwert.\r
            \r
            -- \r
            Jürgen\r

            """.utf8)
        let (flowed, first) = try extract(thunderbird)
        defer { try? FileManager.default.removeItem(at: first) }
        #expect(flowed.text == "die Abweichung an Prüfstand B liegt weiterhin über dem Grenzwert.\n\n-- \nJürgen")

        let esc = "\u{1B}"
        let apple = Array(
            ("Content-Type: text/plain; charset=iso-2022-jp; format=flowed; delsp=yes\r\n"
                + "Content-Transfer-Encoding: 7bit\r\n\r\n"
                // 来週の / 打ち合わせ, cut by the wrap
                + "\(esc)$BMh=5$N\(esc)(B \r\n\(esc)$BBG$A9g$o$;\(esc)(B\r\n").utf8)
        let (japanese, second) = try extract(apple)
        defer { try? FileManager.default.removeItem(at: second) }
        #expect(japanese.text == "来週の打ち合わせ")
    }

    @Test("Apple Mail's rich text around an attachment: the HTML fragments of one multipart/mixed are one body")
    func appleMailFragments() throws {
        // Given multipart/alternative > multipart/mixed of text/html, a PDF, text/html
        let mail = Array(
            """
            Content-Type: multipart/alternative; boundary="Apple-Mail=_A"\r
            \r
            --Apple-Mail=_A\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            before after\r
            --Apple-Mail=_A\r
            Content-Type: multipart/mixed; boundary="Apple-Mail=_B"\r
            \r
            --Apple-Mail=_B\r
            Content-Type: text/html; charset=utf-8\r
            \r
            <html><body><div>before</div></body></html>\r
            --Apple-Mail=_B\r
            Content-Disposition: inline; filename=plan.pdf\r
            Content-Type: application/pdf; name="plan.pdf"\r
            \r
            %PDF-1.4\r
            --Apple-Mail=_B\r
            Content-Type: text/html; charset=iso-8859-1\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            <html><body><div>after, caf=E9</div></body></html>\r
            --Apple-Mail=_B--\r
            \r
            --Apple-Mail=_A--\r

            """.utf8)
        let (extraction, directory) = try extract(mail)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Then both fragments, each from its own charset, are the HTML body; the PDF is a part
        #expect(
            extraction.html
                == "<html><body><div>before</div></body></html>\n<html><body><div>after, café</div></body></html>")
        #expect(extraction.parts.map(\.name) == ["plan.pdf"])
    }

    @Test("a second text/html that is not a sibling fragment (another alternative) is not joined")
    func alternativesAreNotJoined() throws {
        let mail = Array(
            """
            Content-Type: multipart/mixed; boundary=m\r
            \r
            --m\r
            Content-Type: multipart/alternative; boundary=a\r
            \r
            --a\r
            Content-Type: text/html\r
            \r
            <p>one</p>\r
            --a\r
            Content-Type: text/html\r
            \r
            <p>other rendering</p>\r
            --a--\r
            --m\r
            Content-Type: text/html\r
            \r
            <p>forwarded inline</p>\r
            --m--\r

            """.utf8)
        let (extraction, directory) = try extract(mail)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(extraction.html == "<p>one</p>")
        #expect(extraction.parts.isEmpty)
    }

    @Test("Outlook's unnamed text/calendar invitation is named invitation-N.ics, beside its named invite.ics")
    func calendarName() throws {
        let mail = Array(
            """
            Content-Type: multipart/mixed; boundary=mixed\r
            \r
            --mixed\r
            Content-Type: multipart/alternative; boundary=alt\r
            \r
            --alt\r
            Content-Type: text/plain; charset="utf-8"\r
            \r
            Agenda\r
            --alt\r
            Content-Type: text/calendar; charset="utf-8"; method=REQUEST\r
            \r
            BEGIN:VCALENDAR\r
            END:VCALENDAR\r
            --alt--\r
            --mixed\r
            Content-Type: application/ics; name="invite.ics"\r
            Content-Disposition: attachment; filename="invite.ics"\r
            \r
            BEGIN:VCALENDAR\r
            END:VCALENDAR\r
            --mixed--\r

            """.utf8)
        let (extraction, directory) = try extract(mail)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(extraction.parts.map(\.name) == ["invitation-1.ics", "invite.ics"])
        #expect(extraction.parts.map(\.mediaType) == ["text/calendar", "application/ics"])
        #expect(try Data(contentsOf: extraction.parts[0].url) == Data("BEGIN:VCALENDAR\r\nEND:VCALENDAR".utf8))
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
