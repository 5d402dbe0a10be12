import Foundation
import Testing

@testable import Mail

/// MIME parameters as mail programs write them, RFC 2231 file names above all.
@Suite("Header parameters")
struct HeaderParametersTests {
    @Test("Thunderbird's long name: RFC 2231 continuations, every byte escaped, joined in order")
    func continuations() {
        let header =
            "attachment;\r\n filename*0*=UTF-8''%50%72%C3%BC%66%62%65%72%69%63%68%74%20%4D;\r\n"
            + " filename*1*=%C3%A4%72%7A%20%E2%80%93%20;\r\n filename*2=\"Entwurf.pdf\""
        let unfolded = header.replacingOccurrences(of: "\r\n", with: "")
        #expect(HeaderParameters(unfolded).extendedValue("filename") == "Prüfbericht März – Entwurf.pdf")
    }

    @Test("one extended value, in UTF-8 or another charset Charset knows")
    func single() {
        #expect(
            HeaderParameters("attachment; filename*=utf-8''Re%CC%81sume%CC%81.pdf").extendedValue("filename")
                == "Re\u{301}sume\u{301}.pdf")
        #expect(
            HeaderParameters("attachment; filename*=iso-8859-1'de'K%F6ln.txt").extendedValue("filename") == "Köln.txt")
        #expect(
            HeaderParameters("attachment; filename*=koi8-r''%F4%C5%D3%D4.txt").extendedValue("filename") == "Тест.txt")
        #expect(
            HeaderParameters("attachment; filename*=''plain%20name.txt").extendedValue("filename") == "plain name.txt")
    }

    @Test("nil without an extended form, or for a charset it does not know (the plain parameter is used then)")
    func absent() {
        let plain = HeaderParameters("attachment; filename=\"a.pdf\"")
        #expect(plain.extendedValue("filename") == nil)
        #expect(plain["filename"] == "a.pdf")
        #expect(HeaderParameters("attachment; filename*=x-unknown''a.pdf").extendedValue("filename") == nil)
        #expect(HeaderParameters("attachment; filename*1*=%41.pdf").extendedValue("filename") == nil)
    }

    @Test("a stray or cut-off % stays as it is")
    func strayPercent() {
        #expect(
            HeaderParameters("a; filename*=utf-8''100%25%20sure%.txt%4").extendedValue("filename") == "100% sure%.txt%4"
        )
    }
}
