import Foundation
import Testing

@testable import Mail

/// `format=flowed` text (RFC 3676) reads as the paragraphs its writer typed.
@Suite("format=flowed text")
struct FlowedTextTests {
    @Test("a line ending in a space joins the next; a line without one ends the paragraph")
    func softAndHardLines() {
        let text = "Die Grafik zeigt die \nMessreihen der drei \nPrüfstände.\n\nViele Grüße\nJürgen"
        #expect(
            FlowedText.unflow(text, deleteSpace: false)
                == "Die Grafik zeigt die Messreihen der drei Prüfstände.\n\nViele Grüße\nJürgen")
    }

    @Test("with delsp=yes the soft break's space is not part of the text (Apple Mail's Japanese)")
    func deleteSpace() {
        let text = "来週の打ち合わせですが、 \n火曜日に変更できますか。\nよろしく"
        #expect(FlowedText.unflow(text, deleteSpace: true) == "来週の打ち合わせですが、火曜日に変更できますか。\nよろしく")
        #expect(FlowedText.unflow(text, deleteSpace: false) == "来週の打ち合わせですが、 火曜日に変更できますか。\nよろしく")
    }

    @Test("the signature separator stays a line of its own, its space kept")
    func signature() {
        #expect(
            FlowedText.unflow("Grüße \nSören\n-- \nSören Weiß", deleteSpace: false) == "Grüße Sören\n-- \nSören Weiß")
    }

    @Test("quoted lines join only at the same depth, and are written back as '> '")
    func quotes() {
        let text = "> Begin of a \n> quoted line\n>> deeper and \n> back at one\nown text"
        #expect(
            FlowedText.unflow(text, deleteSpace: false)
                == "> Begin of a quoted line\n>> deeper and \n> back at one\nown text")
    }

    @Test("a stuffed space before a line that starts with a space, '>' or 'From ' goes")
    func unstuffing() {
        #expect(
            FlowedText.unflow(" From here\n >not a quote\n  indented", deleteSpace: false)
                == "From here\n>not a quote\n indented")
    }

    @Test("the last line may be soft; an empty text stays empty")
    func edges() {
        #expect(FlowedText.unflow("ends soft ", deleteSpace: false) == "ends soft ")
        #expect(FlowedText.unflow("", deleteSpace: false) == "")
        #expect(FlowedText.isFlowed("Flowed") && !FlowedText.isFlowed("fixed") && !FlowedText.isFlowed(nil))
    }
}
