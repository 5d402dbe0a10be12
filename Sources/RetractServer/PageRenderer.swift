import Foundation
import Hummingbird
import Mustache

/// Renders the reader pages from the Mustache templates bundled with the server.
///
/// Mustache escapes every `{{value}}` as HTML, which is how a message body is shown: as
/// text, never as markup.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

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
        var context = values
        let strings = PageStrings.table(locale)
        context["t"] = strings
        context["title"] = title
        if let script { context["script"] = script }
        let html = library.render(context, withTemplate: template) ?? ""
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
