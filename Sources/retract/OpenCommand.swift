import ArgumentParser
import Foundation
import Seal

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `retract open LINK`: the recipient's command-line reader.
///
/// Sends the link key in a POST body, exactly as the reader page does; the key never goes
/// into a URL or a log.
struct OpenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Open a Retract link and print the message; save attachments with --out.")

    @Argument(help: "The link, as it arrived in the mail.") var link: String
    @Option(help: "Save the attachments into this directory.") var out: String?
    @Flag(help: "Print the message as JSON.") var json = false

    struct Opened: Codable {
        struct Attachment: Codable {
            let index: Int
            let name: String
            let size: Int64
            let mediaType: String
        }

        let subject: String
        let from: String
        let sentAt: Date
        let bodyText: String
        let to: [String]?
        let cc: [String]?
        let attachments: [Attachment]
    }

    struct Refusal: Decodable {
        let error: String
        let message: String
        let reason: String?
    }

    func run() async throws {
        try await Console.run {
            let parsed: Link
            do {
                parsed = try Link.parse(link)
            } catch {
                throw OpenCommandError("that is not a Retract link (expected …/m/<token>#<key>): \(error)")
            }
            guard let range = link.range(of: "/m/", options: .backwards) else {
                throw OpenCommandError("that is not a Retract link (expected …/m/<token>#<key>)")
            }
            let base = String(link[..<range.lowerBound])
            let body = try JSONEncoder().encode(["key": parsed.linkKey.base64url])
            let (data, response) = try await post("\(base)/m/\(parsed.token.base64url)/open", body: body)
            guard response.statusCode == 200 else { throw refusal(data, status: response.statusCode) }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            decoder.dateDecodingStrategy = .iso8601
            let opened = try decoder.decode(Opened.self, from: data)
            var saved: [String] = []
            if let out {
                saved = try await saveAttachments(opened.attachments, base: base, parsed: parsed, into: out)
            }
            if json {
                try Console.json(opened)
                return
            }
            Console.out("From:    \(opened.from)")
            Console.out("Sent:    \(Console.date(opened.sentAt))")
            Console.out("Subject: \(opened.subject)")
            Console.out("")
            Console.out(Self.printable(opened.bodyText))
            for attachment in opened.attachments {
                Console.out("attachment \(attachment.index): \(attachment.name) (\(attachment.size) bytes)")
            }
            for path in saved { Console.out("saved \(path)") }
            if out == nil && !opened.attachments.isEmpty {
                Console.note("use --out DIR to save the attachments")
            }
        }
    }

    private func saveAttachments(_ attachments: [Opened.Attachment], base: String, parsed: Link, into directory: String)
        async throws -> [String]
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let targets = attachments.map { attachment -> (Opened.Attachment, String) in
            (attachment, (directory as NSString).appendingPathComponent(Self.safeFileName(attachment.name, index: attachment.index)))
        }
        for (_, path) in targets where FileManager.default.fileExists(atPath: path) {
            throw OpenCommandError("\(path) already exists; choose another --out directory")
        }
        let body = try JSONEncoder().encode(["key": parsed.linkKey.base64url])
        var saved: [String] = []
        for (attachment, path) in targets {
            var request = URLRequest(url: try url("\(base)/m/\(parsed.token.base64url)/attachments/\(attachment.index)"))
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
            let (temporary, response) = try await URLSession.shared.download(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard status == 200 else {
                let data = (try? Data(contentsOf: temporary)) ?? Data()
                try? FileManager.default.removeItem(at: temporary)
                throw refusal(data, status: status)
            }
            try FileManager.default.moveItem(at: temporary, to: URL(fileURLWithPath: path))
            saved.append(path)
        }
        return saved
    }

    private func post(_ address: String, body: Data) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: try url(address))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw OpenCommandError("cannot reach \(address.components(separatedBy: "/m/").first ?? address): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw OpenCommandError("the server's answer was not HTTP") }
        return (data, http)
    }

    private func url(_ text: String) throws -> URL {
        guard let url = URL(string: text) else { throw OpenCommandError("\(text.debugDescription) is not a valid URL") }
        return url
    }

    private func refusal(_ data: Data, status: Int) -> OpenCommandError {
        guard let refusal = try? JSONDecoder().decode(Refusal.self, from: data) else {
            return OpenCommandError("the server answered HTTP \(status)")
        }
        var message = "\(refusal.message) (\(refusal.error), HTTP \(status))"
        if let reason = refusal.reason { message += "; reason: \(reason)" }
        return OpenCommandError(message)
    }

    /// A file name that stays inside the output directory.
    static func safeFileName(_ name: String, index: Int) -> String {
        let cleaned = String(name.unicodeScalars.filter { $0.value >= 0x20 && $0 != "/" && $0 != "\\" && $0 != "\u{7F}" })
        guard !cleaned.isEmpty, cleaned != ".", cleaned != "..", !cleaned.hasPrefix(".") else {
            return "attachment-\(index)"
        }
        return cleaned
    }

    /// The body with terminal control characters (other than newline and tab) removed, so
    /// a message cannot drive the reader's terminal.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 == "\n" || $0 == "\t" || !($0.properties.generalCategory == .control) })
    }
}

/// A failure of `retract open`, one line.
struct OpenCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
