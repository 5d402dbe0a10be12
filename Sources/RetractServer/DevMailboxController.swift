import Foundation
import Hummingbird
import Mail

/// `/dev/mailbox`: the file outbox as a web page, so a newcomer can click through send →
/// open → revoke → notice in one browser.
///
/// Registered only with the file transport and a loopback bind: it shows personal links.
struct DevMailboxController<Context: RequestContext>: Sendable {
    let directory: URL
    let pages: PageRenderer

    /// Newest mails shown on the list page.
    static var listLimit: Int { 200 }

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get("", use: list)
            .get(":id", use: show)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let files = names.filter { $0.hasSuffix(".eml") }.compactMap { name -> (String, Date)? in
            let path = directory.appendingPathComponent(name).path
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
            return (name, modified ?? .distantPast)
        }.sorted { $0.1 > $1.1 }.prefix(Self.listLimit)
        let rows: [[String: Any]] = files.compactMap { name, _ in
            guard let mail = read(name) else { return nil }
            return [
                "id": String(name.dropLast(4)), "to": mail.header("To") ?? "", "subject": mail.header("Subject") ?? "",
                "date": mail.header("Date") ?? "",
            ]
        }
        return pages.page(
            "mailbox", locale: .en, title: "Dev mailbox",
            values: ["mails": rows, "empty": rows.isEmpty, "directory": directory.path])
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        guard let id = context.parameters.get("id"), id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }),
            let mail = read(id + ".eml")
        else {
            return pages.notice(status: .notFound, locale: .en, kind: "not-found", title: "No such mail", text: "It is not in the outbox.")
        }
        let headers = ["From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"]
            .compactMap { name in mail.header(name).map { ["name": name, "value": $0] } }
        return pages.page(
            "mailbox-mail", locale: .en, title: mail.header("Subject") ?? "Mail",
            values: [
                "headers": headers, "text": mail.textBody ?? "", "html": mail.htmlBody ?? "",
                "hasHTML": mail.htmlBody != nil, "links": mail.links.map { ["url": $0] },
            ])
    }

    private func read(_ name: String) -> ParsedMail? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { return nil }
        return try? ParsedMail(parsing: [UInt8](data))
    }
}
