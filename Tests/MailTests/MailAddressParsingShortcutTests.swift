import Foundation
import Testing

@testable import Mail

/// `MailAddress(parsing:)` skips Foundation's trimming when the text starts and ends with a
/// plain ASCII character, and quotes the address only when it is refused; these pin that
/// the shortcuts change nothing a caller can see.
@Suite("Mail address parsing shortcuts")
struct MailAddressParsingShortcutTests {
    @Test("tabs and Unicode spaces around an address are still trimmed")
    func unicodeSpacesTrimmed() throws {
        #expect(try MailAddress(parsing: "\u{00A0}a@b.example\u{2003}").address == "a@b.example")
        #expect(try MailAddress(parsing: "\ta@b.example").address == "a@b.example")
        #expect(try MailAddress(parsing: "Ann <a@b.example>\u{00A0}").displayName == "Ann")
    }

    @Test("a refused address is still quoted in the error")
    func refusedAddressQuoted() {
        do {
            _ = try MailAddress(parsing: "a@b..example")
            Issue.record("a@b..example was accepted")
        } catch {
            #expect(error.description.contains("\"a@b..example\""))
        }
    }
}
