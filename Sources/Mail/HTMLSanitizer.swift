import Foundation

/// An allow-list sanitiser for the HTML body of a received mail: it keeps the sender's
/// layout and styles and drops everything that runs, submits, navigates or loads.
///
/// It is the second layer, not the only one: the reader shows its output in a sandboxed
/// frame whose document has its own CSP (no script, no form, nothing remote), and that
/// must hold even when something passes here. What it does:
/// - only the elements and attributes listed here survive; unknown elements are unwrapped
///   (their text kept), and script, style-less containers of active content (iframe,
///   object, embed, applet, svg, math, template, noscript, select, textarea, frames,
///   audio, video, canvas) go with everything inside them; form controls, `meta`, `link`,
///   `base` go; `on*` and every other attribute not listed go;
/// - `href` keeps only http, https and mailto; image sources keep only `cid:` (rewritten to
///   the `data:` URI the caller gives) and `data:image/png|gif|jpeg|webp`; remote ones
///   (http:, https:, `//`) are removed and counted, as are remote CSS `url()`s; `srcset`
///   goes;
/// - `<style>` contents and `style` attributes pass `CSSSanitizer`; each kept `<style>`
///   gets the caller's nonce, the only way the page's CSP lets it apply;
/// - the output is serialised here, every text and attribute value escaped, so what the
///   browser parses is what was checked, whatever the input's nesting or errors; open
///   elements nest at most `maximumDepth` deep (deeper tags are unwrapped).
public struct HTMLSanitizer: Sendable {
    /// What sanitising produced.
    public struct Result: Sendable, Equatable {
        /// The body's HTML: a fragment to put inside `<body>`.
        public var html: String
        /// Remote images (and CSS `url()`s, `@import`s) removed.
        public var remoteImagesBlocked: Int
        /// `cid:` images shown from the message's own parts.
        public var inlineImagesShown: Int
        /// `cid:` images that could not be shown (no such part, or over the size budget).
        public var inlineImagesMissing: Int
    }

    /// Deepest nesting of kept elements.
    public static let maximumDepth = 100
    /// Largest input read, in UTF-8 bytes; the rest is dropped.
    public static let maximumInput = 8 << 20

    /// The nonce put on every kept `<style>` element (base64url characters only), or nil for none.
    public let styleNonce: String?
    /// The `data:` URI for a Content-ID, when that inline image may be shown.
    public let inlineImages: [String: String]

    /// A sanitiser that gives `<style>` elements `styleNonce` and shows the `inlineImages` (Content-ID → data URI).
    public init(styleNonce: String?, inlineImages: [String: String] = [:]) {
        self.styleNonce = styleNonce.flatMap { nonce in
            nonce.utf8.allSatisfy {
                HTMLTokenizer.isLetter($0) || HTMLTokenizer.isDigit($0) || $0 == 0x2D || $0 == 0x5F
            }
                ? nonce : nil
        }
        self.inlineImages = inlineImages
    }

    // MARK: Lists

    /// Elements kept, with the attributes each may keep beyond `globalAttributes`.
    static let elements: [String: Set<String>] = [
        "a": ["href"], "abbr": [], "address": [], "article": [], "aside": [], "b": [], "bdi": [], "bdo": [],
        "big": [], "blockquote": [], "br": ["clear"], "caption": [], "center": [], "cite": [], "code": [],
        "col": ["span"], "colgroup": ["span"], "dd": [], "del": ["datetime"], "details": ["open"], "dfn": [],
        "div": [], "dl": [], "dt": [], "em": [], "figcaption": [], "figure": [], "font": ["face", "size", "color"],
        "footer": [], "h1": [], "h2": [], "h3": [], "h4": [], "h5": [], "h6": [], "header": [],
        "hr": ["noshade", "size"],
        "i": [], "img": ["src", "alt", "hspace", "vspace"], "ins": ["datetime"], "kbd": [],
        "li": ["value", "type"], "main": [], "mark": [], "nav": [], "ol": ["start", "type", "reversed"], "p": [],
        "pre": [], "q": [], "rp": [], "rt": [], "ruby": [], "s": [], "samp": [], "section": [], "small": [],
        "span": [], "strike": [], "strong": [], "sub": [], "summary": [], "sup": [],
        "table": ["cellpadding", "cellspacing", "summary", "rules", "frame", "background"], "tbody": [],
        "td": ["colspan", "rowspan", "nowrap", "scope", "headers", "abbr", "background"], "tfoot": [],
        "th": ["colspan", "rowspan", "nowrap", "scope", "headers", "abbr", "background"], "thead": [],
        "time": ["datetime"], "tr": [], "tt": [], "u": [], "ul": ["type"], "var": [], "wbr": [],
    ]

    /// Attributes any kept element may keep.
    static let globalAttributes: Set<String> = [
        "style", "class", "id", "title", "lang", "dir", "align", "valign", "width", "height", "bgcolor", "color",
        "border",
    ]

    /// Elements without content.
    static let voidElements: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source",
        "track", "wbr", "basefont", "bgsound", "frame", "image", "isindex",
    ]

    /// Elements dropped with everything inside them.
    static let droppedWithContent: Set<String> = [
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "noembed", "noframes",
        "template", "svg", "math", "select", "textarea", "title", "xmp", "audio", "video", "canvas", "map",
        "portal", "dialog", "datalist", "option", "optgroup", "plaintext", "listing", "xml", "fencedframe",
        "slot", "marquee",
    ]

    // MARK: Sanitising

    /// The sanitised fragment of `html`.
    public func sanitize(_ html: String) -> Result {
        var input = Array(html.utf8.prefix(Self.maximumInput))
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { input.removeFirst(3) }
        var tokenizer = HTMLTokenizer(input)
        var state = State()
        while let token = tokenizer.next() {
            handle(token, &state)
        }
        while let open = state.stack.popLast() { state.write("</\(open)>") }
        return Result(
            html: String(decoding: state.output, as: UTF8.self), remoteImagesBlocked: state.remote,
            inlineImagesShown: state.inlineShown, inlineImagesMissing: state.inlineMissing)
    }

    private struct State {
        var output: [UInt8] = []
        var stack: [String] = []
        /// The element being skipped with its content, and how deep inside it.
        var skipping: (name: String, depth: Int)?
        /// Inside a `<style>`: its CSS so far.
        var style: [UInt8]?
        var remote = 0
        var inlineShown = 0
        var inlineMissing = 0

        mutating func write(_ text: String) { output += Array(text.utf8) }
    }

    private func handle(_ token: HTMLTokenizer.Token, _ state: inout State) {
        if let skipping = state.skipping {
            switch token {
            case .startTag(let name, _, let selfClosing) where name == skipping.name && !selfClosing:
                state.skipping = (name, skipping.depth + 1)
            case .endTag(let name) where name == skipping.name:
                state.skipping = skipping.depth <= 1 ? nil : (name, skipping.depth - 1)
            default:
                break
            }
            return
        }
        if state.style != nil {
            switch token {
            case .text(let css):
                state.style! += css
            case .endTag("style"):
                let (css, remote) = CSSSanitizer.sanitize(
                    String(decoding: state.style!, as: UTF8.self), inlineImage: { self.inlineImage($0, &state) })
                state.remote += remote
                state.style = nil
                if let styleNonce {
                    state.write("<style nonce=\"\(styleNonce)\">")
                    state.write(css)
                    state.write("</style>")
                }
            default:
                break
            }
            return
        }
        switch token {
        case .text(let bytes):
            state.output += Self.escaped(bytes, attribute: false)
        case .startTag(let name, let attributes, let selfClosing):
            startTag(name, attributes, selfClosing: selfClosing, &state)
        case .endTag(let name):
            guard let index = state.stack.lastIndex(of: name) else { return }
            while state.stack.count > index {
                state.write("</\(state.stack.removeLast())>")
            }
        }
    }

    private func startTag(
        _ name: String, _ attributes: [HTMLTokenizer.Attribute], selfClosing: Bool, _ state: inout State
    ) {
        if name == "style" {
            state.style = []
            return
        }
        if Self.droppedWithContent.contains(name) {
            // Attributes of a dropped image-loading element still count as blocked images.
            for attribute in attributes where ["src", "poster", "data", "background"].contains(attribute.name) {
                if MailURL.classify(attribute.text) == .remote { state.remote += 1 }
            }
            if !Self.voidElements.contains(name), !selfClosing || name != "svg" && name != "math" {
                state.skipping = (name, 1)
            }
            return
        }
        guard let allowed = Self.elements[name] else {
            // Unknown or unwrapped (html, head, body, form, button, input, meta, link, base, o:p…): the tag goes.
            if name == "body" || name == "input" {
                for attribute in attributes where attribute.name == "background" || attribute.name == "src" {
                    if MailURL.classify(attribute.text) == .remote { state.remote += 1 }
                }
            }
            return
        }
        let isVoid = Self.voidElements.contains(name)
        guard isVoid || state.stack.count < Self.maximumDepth else { return }
        var kept: [(String, String)] = []
        var imageRemote = false
        for attribute in attributes {
            let attributeName = attribute.name
            guard Self.globalAttributes.contains(attributeName) || allowed.contains(attributeName) else {
                if attributeName == "srcset" || attributeName == "lowsrc" || attributeName == "dynsrc" {
                    if attribute.text.lowercased().contains("http") || attribute.text.contains("//") {
                        imageRemote = true
                    }
                }
                continue
            }
            switch attributeName {
            case "style":
                let (css, remote) = CSSSanitizer.sanitize(attribute.text, inlineImage: { self.inlineImage($0, &state) })
                state.remote += remote
                kept.append((attributeName, css))
            case "href":
                if case .link(let url) = MailURL.classifyLink(attribute.text) {
                    kept.append(("href", url))
                    if !attributes.contains(where: { $0.name == "title" }) { kept.append(("title", url)) }
                }
            case "src", "background":
                switch MailURL.classify(attribute.text) {
                case .contentID(let id):
                    if let data = inlineImage(id, &state) { kept.append((attributeName, data)) }
                case .imageData(let data):
                    kept.append((attributeName, data))
                case .remote:
                    if attributeName == "src" { imageRemote = true } else { state.remote += 1 }
                case .link, .other:
                    break
                }
            default:
                kept.append((attributeName, attribute.text))
            }
        }
        if imageRemote {
            state.remote += 1
            if name == "img", !kept.contains(where: { $0.0 == "alt" }) { kept.append(("alt", "")) }
        }
        var tag = "<" + name
        for (attributeName, value) in kept {
            tag +=
                " " + attributeName + "=\""
                + String(decoding: Self.escaped(Array(value.utf8), attribute: true), as: UTF8.self) + "\""
        }
        tag += ">"
        state.write(tag)
        if !isVoid { state.stack.append(name) }
    }

    /// The data URI for a Content-ID, counting it as shown or missing.
    private func inlineImage(_ id: String, _ state: inout State) -> String? {
        if let data = inlineImages[id] ?? inlineImages[id.lowercased()] {
            state.inlineShown += 1
            return data
        }
        state.inlineMissing += 1
        return nil
    }

    /// The text of an HTML body, for mail that has no text/plain part: what a reader sees,
    /// with block elements and `<br>` as line breaks, scripts, styles and other dropped
    /// content left out, blank runs collapsed; at most `maximumInput` bytes read.
    public static func plainText(_ html: String) -> String {
        let blocks: Set<String> = [
            "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr",
            "section", "article", "header", "footer", "ul", "ol", "dl", "dt", "dd",
        ]
        var tokenizer = HTMLTokenizer(Array(html.utf8.prefix(maximumInput)))
        var text: [UInt8] = []
        var skipping: (name: String, depth: Int)?
        func newline() {
            while text.last == 0x20 { text.removeLast() }
            if text.last != 0x0A { text.append(0x0A) }
        }
        while let token = tokenizer.next() {
            if let current = skipping {
                if case .startTag(let name, _, _) = token, name == current.name { skipping = (name, current.depth + 1) }
                if case .endTag(let name) = token, name == current.name {
                    skipping = current.depth <= 1 ? nil : (name, current.depth - 1)
                }
                continue
            }
            switch token {
            case .text(let bytes):
                for byte in bytes {
                    let blank = byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
                    if blank {
                        if let last = text.last, last != 0x20, last != 0x0A { text.append(0x20) }
                    } else {
                        text.append(byte)
                    }
                }
            case .startTag(let name, _, let selfClosing):
                if name == "style"
                    || (droppedWithContent.contains(name) && !voidElements.contains(name) && !selfClosing)
                {
                    skipping = (name, 1)
                } else if blocks.contains(name) {
                    newline()
                }
            case .endTag(let name):
                if blocks.contains(name) { newline() }
            }
        }
        var result = String(decoding: text, as: UTF8.self)
        while result.contains("\n\n\n") { result = result.replacingOccurrences(of: "\n\n\n", with: "\n\n") }
        return result.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A value escaped for a double-quoted attribute (`&`, `<`, `>`, `"` as references).
    public static func escapedAttribute(_ bytes: [UInt8]) -> [UInt8] {
        escaped(bytes, attribute: true)
    }

    /// Text or an attribute value with `&`, `<`, `>` (and `"` in attributes) as references.
    static func escaped(_ bytes: [UInt8], attribute: Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): output += Array("&amp;".utf8)
            case UInt8(ascii: "<"): output += Array("&lt;".utf8)
            case UInt8(ascii: ">"): output += Array("&gt;".utf8)
            case UInt8(ascii: "\"") where attribute: output += Array("&quot;".utf8)
            case 0: output += [0xEF, 0xBF, 0xBD]
            default: output.append(byte)
            }
        }
        return output
    }
}
