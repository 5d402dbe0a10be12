import Foundation
import RetractCore
import Testing

@Suite("Reading a reply to a receipt")
struct RevokeReplyCommandTests {
    static let quote = """
        On Thu, 3 Dec 2026 at 12:00, Retract <retract@corp.test> wrote:
        > Hello Alice,
        > Retract received your message "Q3 figures".
        """

    @Test("REVOKE alone revokes from everyone without a reason")
    func revokeAlone() {
        #expect(RevokeReplyCommand.parse("REVOKE\n\n" + Self.quote) == RevokeReplyCommand(recipients: [], reason: nil, correction: nil))
        #expect(RevokeReplyCommand.parse("revoke") == RevokeReplyCommand(recipients: [], reason: nil, correction: nil))
    }

    @Test("the lines under REVOKE are the reason; under a --- line, the corrected text")
    func reasonAndCorrection() {
        let text = "REVOKE\nWrong figures, sorry.\nThe right ones follow.\n---\nRevenue: 12.4 M\nCosts: 9.1 M\n\n" + Self.quote
        #expect(
            RevokeReplyCommand.parse(text)
                == RevokeReplyCommand(
                    recipients: [], reason: "Wrong figures, sorry.\nThe right ones follow.",
                    correction: "Revenue: 12.4 M\nCosts: 9.1 M"))
    }

    @Test("REVOKE with addresses names the recipients; 撤回 and Reason:/原因: work too")
    func forms() {
        #expect(
            RevokeReplyCommand.parse("REVOKE bob@partner.example, <dave@other.example>")?.recipients
                == ["bob@partner.example", "dave@other.example"])
        #expect(RevokeReplyCommand.parse("撤回\n发错了") == RevokeReplyCommand(recipients: [], reason: "发错了", correction: nil))
        #expect(RevokeReplyCommand.parse("Reason: wrong attachment")?.reason == "wrong attachment")
        #expect(RevokeReplyCommand.parse("原因：附件错了")?.reason == "附件错了")
    }

    @Test("a bottom-posted reply is read below the quote; Outlook's quote header ends a top-posted one")
    func postingStyles() {
        let bottom = Self.quote + "\n\nREVOKE\nwrong recipient\n"
        #expect(RevokeReplyCommand.parse(bottom)?.reason == "wrong recipient")
        let outlook = "REVOKE\nnot final\n\nFrom: Retract <retract@corp.test>\nSent: Thursday\nSubject: Sent as secure links\n"
        #expect(RevokeReplyCommand.parse(outlook)?.reason == "not final")
        let outlookRule = "REVOKE\n________________________________\nFrom: Retract"
        #expect(RevokeReplyCommand.parse(outlookRule)?.reason == nil)
    }

    @Test("anything else is no command: thanks, an empty reply, REVOKED, a quote only")
    func noCommand() {
        for text in ["Thanks!", "", "\n\n", "REVOKED it myself", "> REVOKE", Self.quote, "Please revoke it"] {
            #expect(RevokeReplyCommand.parse(text) == nil, "\(text.debugDescription)")
        }
    }
}
