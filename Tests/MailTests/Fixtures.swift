import Foundation
import Testing

@testable import Mail

/// Shared values and checks for the Mail tests.
enum Fixtures {
    static var service: MailAddress { get throws { try MailAddress(parsing: "retract@localhost") } }
    static var alice: MailAddress { get throws { try MailAddress(parsing: "Alice Example <alice@example.com>") } }
    static var bob: MailAddress { get throws { try MailAddress(parsing: "Bob Jones <bob@example.org>") } }
    static let link =
        "https://retract.example.com/m/q2Vx8f0aZb3LmN4oP5rS6t#Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXhxdX"
    static let sentAt = Date(timeIntervalSince1970: 1_741_010_700)  // 3 March 2025, 14:05 UTC
    static let openedAt = Date(timeIntervalSince1970: 1_741_015_200)  // 3 March 2025, 15:20 UTC

    static func message(subject: String = "Quarterly figures", html: String? = nil) throws -> MailMessage {
        MailMessage(
            from: try Self.service, replyTo: try Self.alice, to: [try Self.bob], subject: subject,
            messageID: MessageIDFactory.make(domain: "localhost"), date: Self.sentAt,
            textBody: "Hello Bob,\n\nSee you.\n",
            htmlBody: html)
    }

    /// The mail's lines; also checks that every line ends in CRLF (no bare CR or LF).
    static func lines(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        for line in lines {
            #expect(!line.contains("\n") && !line.contains("\r"), "bare line break in \(line.debugDescription)")
        }
        #expect(lines.last == "", "the mail does not end with CRLF")
        return lines
    }

    /// The raw header block, lines folded as on the wire.
    static func headerLines(_ bytes: [UInt8]) -> [String] {
        let all = Self.lines(bytes)
        return Array(all.prefix { !$0.isEmpty })
    }

    static func parse(_ bytes: [UInt8]) throws -> ParsedMail {
        try ParsedMail(parsing: bytes)
    }
}
