import Testing

@testable import retract

@Suite("What retract open prints")
struct OpenCommandOutputTests {
    @Test("a body cannot drive the reader's terminal: control characters other than newline and tab are stripped")
    func controlCharactersStripped() {
        let hostile = "Hello\u{1B}]0;pwned\u{07}\u{1B}[2J\tworld\nnext\u{9B}line"
        let shown = OpenCommand.printable(hostile)
        #expect(!shown.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{9B}" })
        #expect(shown == "Hello]0;pwned[2J\tworld\nnextline")
    }

    @Test("attachment names cannot leave the output directory")
    func safeFileNames() {
        #expect(OpenCommand.safeFileName("../../etc/passwd", index: 1) == "attachment-1")
        #expect(OpenCommand.safeFileName("dir/sub\\name.txt", index: 5) == "dirsubname.txt")
        #expect(OpenCommand.safeFileName("..", index: 2) == "attachment-2")
        #expect(OpenCommand.safeFileName(".bashrc", index: 3) == "attachment-3")
        #expect(OpenCommand.safeFileName("report.pdf", index: 4) == "report.pdf")
    }
}
