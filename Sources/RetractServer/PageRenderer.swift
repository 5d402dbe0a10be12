import Foundation
import Hummingbird
import Mustache
import Sodium

/// Renders the reader pages from the Mustache templates bundled with the server.
///
/// Mustache escapes every `{{value}}` as HTML, which is how a message body is shown: as
/// text, never as markup.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// The interstitial page (without verification) of each locale, rendered once and split
    /// where the token goes: `parts.joined(separator: token)` is the page.
    let interstitialParts: [PageLocale: [String]]

    /// The stand-in rendered where the token goes: letters only, so HTML escaping leaves it
    /// as it is, and no template or string table contains it.
    static let tokenPlaceholder = "RETRACTTOKENPLACEHOLDERzq7"

    /// A renderer over `library`, with the interstitial pre-rendered for every locale.
    init(library: MustacheLibrary) {
        self.library = library
        var parts: [PageLocale: [String]] = [:]
        for locale in [PageLocale.en, .zhHans] {
            let html = Self.render(
                library, "interstitial", locale: locale,
                title: PageStrings.table(locale)["interstitial_title"] ?? "",
                values: ["token": Self.tokenPlaceholder], script: "open.js")
            parts[locale] = html.components(separatedBy: Self.tokenPlaceholder)
        }
        self.interstitialParts = parts
    }

    /// Loads the bundled templates.
    static func load() async throws -> PageRenderer {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Templates") else {
            throw RetractServerError("the server's page templates are missing from its resources")
        }
        return PageRenderer(library: try await MustacheLibrary(directory: directory.path))
    }

    /// An HTML response of `template` filled with `values` and the locale's strings.
    func page(
        _ template: String, status: HTTPResponse.Status = .ok, locale: PageLocale, title: String,
        values: [String: Any] = [:], script: String? = nil
    ) -> Response {
        let html = Self.render(library, template, locale: locale, title: title, values: values, script: script)
        return Self.htmlResponse(html, status: status, locale: locale)
    }

    /// The interstitial page of a link that opens without verification: the same bytes as
    /// `page("interstitial", …, values: ["token": …], script: "open.js")`, without running
    /// Mustache (a fifth of a page view's CPU). Only the token varies between two such pages,
    /// and a base64url token is the same text before and after HTML escaping.
    func interstitial(token: String, locale: PageLocale) -> Response {
        guard let parts = interstitialParts[locale], parts.count >= 2,
            token.utf8.allSatisfy({ Base64URL.isAlphabet($0) })
        else {
            return page(
                "interstitial", locale: locale, title: PageStrings.table(locale)["interstitial_title"] ?? "",
                values: ["token": token], script: "open.js")
        }
        return Self.htmlResponse(parts.joined(separator: token), status: .ok, locale: locale)
    }

    private static func render(
        _ library: MustacheLibrary, _ template: String, locale: PageLocale, title: String, values: [String: Any],
        script: String?
    ) -> String {
        var context = values
        context["t"] = PageStrings.table(locale)
        context["title"] = title
        if let script { context["script"] = script }
        return library.render(context, withTemplate: template) ?? ""
    }

    private static func htmlResponse(_ html: String, status: HTTPResponse.Status, locale: PageLocale) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.contentLanguage] = locale.rawValue
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that only says something: not found, withdrawn, expired, an error.
    func notice(
        status: HTTPResponse.Status, locale: PageLocale, kind: String, title: String, text: String,
        reason: String? = nil, replaced: Bool = false
    ) -> Response {
        var values: [String: Any] = ["kind": kind, "text": text, "replaced": replaced]
        if let reason, !reason.isEmpty { values["reason"] = reason }
        return page("notice", status: status, locale: locale, title: title, values: values)
    }

    /// `2026-11-29 14:05 UTC`: unambiguous in both languages.
    static func displayDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }
}
