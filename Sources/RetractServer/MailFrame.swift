import Foundation
import Mail
import RetractCore
import Sodium

/// The document of the sandboxed frame that shows a received mail's HTML body, and the
/// nonce its styles carry.
///
/// Three layers, each enough on its own for what it stops: `HTMLSanitizer` (allow-list:
/// scripts, handlers, forms, remote images and remote CSS go), this document's own CSP as
/// its first element (`default-src 'none'`: only nonce'd styles, style attributes and
/// `data:` images), and the frame's `sandbox` with no allowances (no script, no form, no
/// popup, no navigation of the page, an opaque origin). A `srcdoc` frame also inherits the
/// page's CSP (`SecurityHeadersMiddleware.mailPageContentSecurityPolicy`). The document is
/// given inline, so neither the link key nor anything else of the message is in a URL.
struct MailFrame {
    /// The frame's `srcdoc`: the whole document (unescaped; the template escapes it).
    let document: String
    /// The per-response nonce the page's CSP names for the mail's `<style>` elements.
    let nonce: String
    /// What the sanitiser removed or showed.
    let result: HTMLSanitizer.Result

    /// The frame for `html`, with the message's inline images as `data:` URIs.
    init(html: String, inlineImages: [InlineImage]) {
        let nonce = Base64URL.encode(Random.bytes(18))
        var images: [String: String] = [:]
        for image in inlineImages {
            images[image.contentID] = "data:\(image.mediaType);base64," + Data(image.bytes).base64EncodedString()
        }
        let result = HTMLSanitizer(styleNonce: nonce, inlineImages: images).sanitize(html)
        self.nonce = nonce
        self.result = result
        self.document =
            "<!doctype html><html><head>"
            + "<meta http-equiv=\"Content-Security-Policy\" content=\"\(Self.documentPolicy(nonce: nonce))\">"
            + "<meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">"
            + "<style nonce=\"\(nonce)\">body{margin:8px;font:15px/1.45 system-ui,sans-serif;color:#111;"
            + "background:#fff;overflow-wrap:anywhere}img{max-width:100%}</style>"
            + "</head><body>" + result.html + "</body></html>"
    }

    /// The CSP of the frame's document: nothing but nonce'd styles, style attributes and `data:` images.
    static func documentPolicy(nonce: String) -> String {
        "default-src 'none'; style-src 'nonce-\(nonce)'; style-src-attr 'unsafe-inline'; img-src data:; "
            + "font-src 'none'; form-action 'none'; base-uri 'none'"
    }

    /// The document escaped for a double-quoted attribute.
    var escapedDocument: String {
        String(decoding: HTMLSanitizer.escapedAttribute(Array(document.utf8)), as: UTF8.self)
    }
}
