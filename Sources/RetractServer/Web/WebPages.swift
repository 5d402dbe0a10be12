import Foundation
import Hummingbird
import RetractCore

/// Renders the web app's pages: the shared frame (navigation, language switch, sign-out
/// form with its CSRF token, a notice line) around each template's content.
struct WebPages: Sendable {
    let renderer: PageRenderer

    /// Who is looking and in which language; what every page's frame needs.
    struct Viewer {
        var locale: PageLocale
        var session: WebSessionState?
        /// The path shown, where the language switch comes back to.
        var path: String
        var strings: [String: String] { PageStrings.table(locale) }

        /// The string `key` with each `{name}` replaced.
        func text(_ key: String, _ values: [String: String] = [:]) -> String {
            values.reduce(strings[key] ?? key) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }
    }

    /// An app page: `template` inside the frame.
    func page(
        _ template: String, status: HTTPResponse.Status = .ok, viewer: Viewer, title: String,
        notice: String? = nil, values: [String: Any] = [:]
    ) -> Response {
        var context = values
        let other: PageLocale = viewer.locale == .en ? .zhHans : .en
        context["switchHref"] = "/app/locale?to=\(other.rawValue)&next=\(Self.queryEscaped(viewer.path))"
        context["switchLang"] = other.rawValue
        if let session = viewer.session {
            context["signedIn"] = true
            // A manage link's session sees one message: no list, no compose.
            context["fullSession"] = session.messageScope == nil
            context["account"] = session.account.address
            context["csrf"] = session.csrfToken
        }
        if let notice { context["flash"] = notice }
        return renderer.page(template, status: status, locale: viewer.locale, title: title, values: context)
    }

    /// A page that only says something (403, 404, 413, 429, …), with a way back.
    func message(
        status: HTTPResponse.Status, viewer: Viewer, title: String, text: String,
        back: (href: String, label: String)? = nil
    ) -> Response {
        var values: [String: Any] = ["heading": title, "text": text]
        if let back { values["back"] = ["href": back.href, "label": back.label] }
        return page("app-message", status: status, viewer: viewer, title: title, values: values)
    }

    /// Percent-escapes a value for a query string.
    static func queryEscaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~/"))) ?? ""
    }

    /// `14:05:09 UTC`: the undo deadline, to the second.
    static func displayTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d:%02d:%02d UTC", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// ISO 8601 for `datetime` attributes and the countdown script.
    static func iso(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// `30d`, `5m`, `45s`, `0`: a duration the way the form accepts it back.
    static func durationText(_ seconds: TimeInterval) -> String {
        let value = Int(seconds)
        if value == 0 { return "0" }
        for (unit, factor) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] where value % factor == 0 {
            return "\(value / factor)\(unit)"
        }
        return "\(value)s"
    }

    /// `25 MB`.
    static func sizeText(_ bytes: Int) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .file)
    }
}
