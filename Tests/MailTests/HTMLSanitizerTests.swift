import Foundation
import Testing

@testable import Mail

/// The allow-list pass over a received mail's HTML, on its own: the reader's second layer
/// (the sandboxed frame and its CSP are the first, tested in the server and the browser).
@Suite("Sanitising mail HTML")
struct HTMLSanitizerTests {
    let nonce = "TESTNONCE0123456789ab"
    let pixel = "data:image/png;base64,iVBORw0KGgo="

    func clean(_ html: String, images: [String: String] = [:]) -> HTMLSanitizer.Result {
        HTMLSanitizer(styleNonce: nonce, inlineImages: images).sanitize(html)
    }

    @Test("scripts go with their content; the text around them stays")
    func scripts() {
        #expect(clean("<p>a<script>alert(1)</script>b</p>").html == "<p>ab</p>")
        #expect(clean("<p>a<SCRIPT SRC=//evil.test/x.js></SCRIPT>b").html == "<p>ab</p>")
        #expect(clean("<script>document.write('<p>x</p>')</script >ok").html == "ok")
        #expect(clean("<svg onload=alert(1)><script>alert(2)</script></svg>ok").html == "ok")
        // The style inside math is read as raw text to the end (no </style>): text lost, never markup.
        #expect(clean("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></math>ok").html == "")
        #expect(clean("<math><mi>x</mi></math>ok").html == "ok")
    }

    @Test("event handlers and unknown attributes go; listed ones stay, escaped")
    func attributes() {
        #expect(clean("<img src=x onerror=alert(1)>").html == "<img>")
        #expect(
            clean("<p onclick=\"alert(1)\" title='a\"b<c' style=\"color:red\">x</p>").html
                == "<p title=\"a&quot;b&lt;c\" style=\"color:red\">x</p>")
        #expect(clean("<div/onmouseover='alert(1)'>x</div>").html == "<div>x</div>")
        #expect(clean("<td colspan=2 formaction=javascript:alert(1)>x").html == "<td colspan=\"2\">x</td>")
    }

    @Test("links keep only http, https and mailto, however the scheme is disguised")
    func links() {
        #expect(
            clean("<a href=\"https://example.org/?a=1&amp;b=2\">x</a>").html
                == "<a href=\"https://example.org/?a=1&amp;b=2\" title=\"https://example.org/?a=1&amp;b=2\">x</a>")
        #expect(clean("<a href=mailto:bob@example.org>m</a>").html.contains("href=\"mailto:bob@example.org\""))
        for bad in [
            "javascript:alert(1)", "JaVaScRiPt:alert(1)", "jav&#x09;ascript:alert(1)", "&#106;avascript:alert(1)",
            " javascript:alert(1)", "java\nscript:alert(1)", "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "javascript&colon;alert(1)", "/relative/path",
        ] {
            #expect(clean("<a href=\"\(bad)\">x</a>").html == "<a>x</a>", "\(bad)")
        }
    }

    @Test("remote images are removed and counted: img, srcset, background, CSS url(), @import")
    func remoteImages() {
        let one = clean("<img src=\"https://evil.test/p.png\" width=1>")
        #expect(one.html == "<img width=\"1\" alt=\"\">")
        #expect(one.remoteImagesBlocked == 1)
        #expect(clean("<img src=//evil.test/p.png>").remoteImagesBlocked == 1)
        #expect(clean("<img src=\"\\\\evil.test\\p.png\">").remoteImagesBlocked == 1)
        #expect(clean("<img srcset=\"https://evil.test/a.png 2x\">").html == "<img alt=\"\">")
        #expect(clean("<table background=\"http://evil.test/bg.gif\"><tr><td>x").remoteImagesBlocked == 1)
        let css = clean("<div style=\"background:url('http://evil.test/x.png') no-repeat\">x</div>")
        #expect(css.html == "<div style=\"background:none no-repeat\">x</div>")
        #expect(css.remoteImagesBlocked == 1)
        let style = clean("<style>@import url(http://evil.test/a.css); p{background-image:URL(//evil.test/b)}</style>")
        #expect(style.remoteImagesBlocked == 2)
        #expect(!style.html.contains("evil.test"))
        #expect(clean("<body background=http://evil.test/x.gif>hi").remoteImagesBlocked == 1)
        #expect(clean("<video poster=https://evil.test/p.jpg></video>").remoteImagesBlocked == 1)
        let five = clean(String(repeating: "<img src=https://evil.test/t.gif>", count: 5))
        #expect(five.remoteImagesBlocked == 5)
    }

    @Test("cid: images become the data: URIs given; missing ones are counted")
    func inlineImages() {
        let shown = clean("<img src=\"cid:logo@example.org\" alt=Logo>", images: ["logo@example.org": pixel])
        #expect(shown.html == "<img src=\"\(pixel)\" alt=\"Logo\">")
        #expect(shown.inlineImagesShown == 1)
        let encoded = clean("<img src=\"cid:part1%40example.org\">", images: ["part1@example.org": pixel])
        #expect(encoded.inlineImagesShown == 1)
        let css = clean("<td style=\"background:url(cid:bg@x)\">", images: ["bg@x": pixel])
        #expect(css.html == "<td style=\"background:url(&quot;\(pixel)&quot;)\"></td>")
        let missing = clean("<img src=\"cid:gone@example.org\">")
        #expect(missing.html == "<img>")
        #expect(missing.inlineImagesMissing == 1)
    }

    @Test("data: URIs are kept only for png, gif, jpeg and webp images")
    func dataURIs() {
        #expect(clean("<img src=\"\(pixel)\">").html == "<img src=\"\(pixel)\">")
        #expect(clean("<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">").html == "<img>")
        #expect(clean("<img src=\"data:text/html;base64,PHNjcmlwdD4=\">").html == "<img>")
    }

    @Test("styles keep their rules, get the nonce, and cannot break out or run anything")
    func styles() {
        #expect(
            clean("<style>p { color: red }</style><p>x</p>").html
                == "<style nonce=\"\(nonce)\">p { color: red }</style><p>x</p>")
        #expect(HTMLSanitizer(styleNonce: nil).sanitize("<style>p{}</style>x").html == "x")
        #expect(
            clean("<style>p{content:'</style><script>alert(1)</script>'}</style>").html.contains("<script") == false)
        #expect(clean("<style>a{b:'<'}</style>").html == "<style nonce=\"\(nonce)\">a{b:'\\3c '}</style>")
        #expect(clean("<p style=\"width:expression(alert(1))\">").html == "<p style=\"width:x-blocked(alert(1))\"></p>")
        #expect(clean("<p style=\"background:\\75 rl(http://evil.test/x)\">").remoteImagesBlocked == 1)
        #expect(
            clean("<p style=\"behavior:url(x.htc);-moz-binding:url(http://evil.test/x.xml#x)\">").html
                .contains("evil.test") == false)
        #expect(clean("<p style=\"background:u/**/rl(http://evil.test/x)\">").html.contains("evil.test") == false)
        // An unquoted url() ends at the first ")", as in CSS; the stray ")" is harmless.
        #expect(clean("<p style=\"list-style:url(javascript:alert(1))\">").html == "<p style=\"list-style:none)\"></p>")
    }

    @Test("forms, frames, embeds and document-level tags go; their text stays where it is text")
    func activeContent() {
        #expect(clean("<form action=http://evil.test><input name=a value=b><button>Go</button></form>").html == "Go")
        #expect(clean("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>ok").html == "ok")
        #expect(clean("<object data=http://evil.test/x.swf><param name=a value=b></object>ok").html == "ok")
        #expect(clean("<embed src=http://evil.test/x.swf>ok").html == "ok")
        #expect(
            clean(
                "<meta http-equiv=refresh content=\"0;url=http://evil.test\"><base href=http://evil.test/><link rel=stylesheet href=http://evil.test/a.css>ok"
            ).html == "ok")
        #expect(clean("<html><head><title>T</title></head><body bgcolor=red><p>x</p></body></html>").html == "<p>x</p>")
        #expect(clean("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">").html == "<img>\"&gt;")
        #expect(clean("<!--<script>alert(1)</script>-->ok<!--x--!>").html == "ok")
        #expect(clean("<o:p>Outlook</o:p>").html == "Outlook")
    }

    @Test("text is decoded and escaped again, so what the browser parses is what was checked")
    func text() {
        #expect(
            clean("a &lt;b&gt; &amp; c &copy; &#x263A; &bogus; <").html == "a &lt;b&gt; &amp; c © ☺ &amp;bogus; &lt;")
        #expect(clean("<p>unclosed <b>bold").html == "<p>unclosed <b>bold</b></p>")
        #expect(clean("</div></p>x").html == "x")
    }

    @Test("nesting is bounded: a 10,000-deep tree neither crashes nor nests deeper than the limit")
    func deepNesting() {
        let deep = String(repeating: "<div>", count: 10_000) + "x" + String(repeating: "</div>", count: 10_000)
        let result = clean(deep)
        #expect(result.html.components(separatedBy: "<div>").count - 1 == HTMLSanitizer.maximumDepth)
        #expect(result.html.components(separatedBy: "</div>").count - 1 == HTMLSanitizer.maximumDepth)
        #expect(result.html.contains("x"))
        let unclosed = clean(String(repeating: "<table><tr><td>", count: 5_000))
        #expect(unclosed.html.hasSuffix("</table>"))
    }

    @Test("a nonce that is not base64url is not used")
    func nonceChecked() {
        #expect(HTMLSanitizer(styleNonce: "a\" onload=\"x").sanitize("<style>p{}</style>").html == "")
    }

    @Test("URLs are classified as a browser reads them")
    func urls() {
        #expect(MailURL.classify("  HTTPS://x.test/a") == .remote)
        #expect(MailURL.classify("//x.test/a") == .remote)
        #expect(MailURL.classify("/\\x.test/a") == .remote)
        #expect(MailURL.classify("cid:a%40b") == .contentID("a@b"))
        #expect(MailURL.classify("data:image/gif;base64,R0lG") == .imageData("data:image/gif;base64,R0lG"))
        #expect(MailURL.classify("data:image/svg+xml,<svg>") == .other)
        #expect(MailURL.classify("j\tavascript:alert(1)") == .other)
        #expect(MailURL.classifyLink("ht\ntps://x.test") == .link("https://x.test"))
        #expect(MailURL.classifyLink("javascript:alert(1)") == .other)
    }

    /// Checks what a browser would act on in the output: only listed tags and attributes,
    /// links to http, https or mailto, images from data:image/ only, CSS that loads and runs nothing.
    func assertHarmless(_ output: String, _ input: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let allowedTags = Set(HTMLSanitizer.elements.keys).union(["style"])
        var inStyle = false
        for token in HTMLTokenizer.tokens(of: Array(output.utf8)) {
            switch token {
            case .startTag(let tag, let attributes, _):
                inStyle = tag == "style"
                #expect(allowedTags.contains(tag), "\(tag) from \(input)", sourceLocation: sourceLocation)
                let allowed = HTMLSanitizer.globalAttributes.union(HTMLSanitizer.elements[tag] ?? []).union(["nonce"])
                for attribute in attributes {
                    #expect(
                        allowed.contains(attribute.name), "\(tag) \(attribute.name) from \(input)",
                        sourceLocation: sourceLocation)
                    let value = attribute.text.lowercased()
                    switch attribute.name {
                    case "href":
                        #expect(
                            ["http:", "https:", "mailto:"].contains { value.hasPrefix($0) }, "\(value) from \(input)",
                            sourceLocation: sourceLocation)
                    case "src", "background":
                        #expect(
                            value.hasPrefix("data:image/"), "\(value) from \(input)", sourceLocation: sourceLocation)
                    case "style":
                        assertHarmlessCSS(value, input, sourceLocation: sourceLocation)
                    default:
                        break
                    }
                }
            case .text(let bytes) where inStyle:
                assertHarmlessCSS(
                    String(decoding: bytes, as: UTF8.self).lowercased(), input, sourceLocation: sourceLocation)
            case .endTag:
                inStyle = false
            default:
                break
            }
        }
    }

    func assertHarmlessCSS(_ css: String, _ input: String, sourceLocation: SourceLocation) {
        for word in ["expression(", "javascript:", "vbscript:", "-moz-binding", "behavior", "@import", "image-set("] {
            #expect(!css.contains(word), "\(word) in \(css) from \(input)", sourceLocation: sourceLocation)
        }
        for piece in css.components(separatedBy: "url(").dropFirst() {
            #expect(piece.hasPrefix("\"data:image/"), "url(\(piece) from \(input)", sourceLocation: sourceLocation)
        }
    }

    @Test("the browser test's XSS vectors (OWASP filter-evasion cheat sheet) come out harmless")
    func owaspVectors() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Browser/fixtures/xss_vectors.txt")
        let lines = try String(contentsOf: fixture, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(lines.count >= 60)
        var remote = 0
        for (number, line) in lines.enumerated() {
            let vector = line.replacingOccurrences(of: "{REMOTE}", with: "http://127.0.0.1:9")
                .replacingOccurrences(of: "{REMOTEPORT}", with: "9").replacingOccurrences(of: "{N}", with: "\(number)")
            let result = clean(vector)
            assertHarmless(result.html, vector)
            remote += result.remoteImagesBlocked
        }
        #expect(remote >= 20)
    }

    @Test("random tag soup never crashes and comes out harmless")
    func tagSoup() {
        let pieces = [
            "<", ">", "/", "=", "\"", "'", " ", "&", "#", ";", "x", "-", "!", "?", "\\", "(", ")", ":",
            "script", "style", "img", "src", "onerror", "a", "href", "javascript", "svg", "math", "<!--", "-->",
            "url(", "//evil.test", "textarea", "noscript", "title", "&#106;", "p", "div", "iframe", "{", "}",
        ]
        var seed: UInt64 = 0x5EED
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33)
        }
        for _ in 0..<2_000 {
            let soup = (0..<(next() % 40)).map { _ in pieces[next() % pieces.count] }.joined()
            assertHarmless(clean(soup).html, soup)
        }
    }

    @Test("an HTML-only mail gets a plain-text rendition: blocks as lines, no script or style text")
    func plainText() {
        let text = HTMLSanitizer.plainText(
            "<html><head><style>p{color:red}</style><title>T</title></head><body><p>Hello   <b>Bob</b>,</p>"
                + "<script>alert(1)</script><div>line two<br>line three</div><ul><li>a</li><li>b</li></ul></body></html>"
        )
        #expect(text == "Hello Bob,\nline two\nline three\na\nb")
    }
}
