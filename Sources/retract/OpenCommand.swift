import ArgumentParser
import Foundation
import Seal

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `retract open LINK`: the recipient's command-line reader.
///
/// Sends the link key in a POST body, exactly as the reader page does; the key never goes
/// into a URL or a log. A message sent with `--verify` needs the code mailed to the
/// recipient: `--send-code` asks for one, `--code` passes it (there is no prompt, so the
/// command stays scriptable); without them the command says so and stops.
struct OpenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Open a Retract link and print the message; save attachments with --out.")

    @Argument(help: "The link, as it arrived in the mail.") var link: String
    @Option(help: "Save the attachments into this directory.") var out: String?
    @Flag(help: "Print the message as JSON.") var json = false
    @Option(help: "The 6-digit code mailed to you, for a message sent with --verify.") var code: String?
    @Flag(help: "Mail a verification code to the recipient's address, then stop.") var sendCode = false

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
        let sentTo: String?
    }

    struct CodeSent: Decodable {
        let sentTo: String?
        let expiresAt: Date?
    }

    /// The JSON body of every request: the key, and the code when one was given.
    struct KeyBody: Encodable {
        let key: String
        let code: String?
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
            if code != nil && sendCode {
                throw OpenCommandError(
                    "--code and --send-code cannot be used together: ask for a code first, then open with it")
            }
            let body = try JSONEncoder().encode(KeyBody(key: parsed.linkKey.base64url, code: code))
            if sendCode {
                try await requestCode(base: base, parsed: parsed, body: body)
                return
            }
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
        let body = try JSONEncoder().encode(KeyBody(key: parsed.linkKey.base64url, code: code))
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

    /// `--send-code`: asks the server to mail a code to the recipient's own address.
    private func requestCode(base: String, parsed: Link, body: Data) async throws {
        let (data, response) = try await post("\(base)/m/\(parsed.token.base64url)/code", body: body)
        guard response.statusCode == 200 else { throw refusal(data, status: response.statusCode) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        let sent = try decoder.decode(CodeSent.self, from: data)
        guard let address = sent.sentTo else {
            Console.note("this message opens without a code; run retract open without --send-code")
            return
        }
        Console.out("a 6-digit code was mailed to \(address); it works until \(Console.date(sent.expiresAt))")
        Console.note("open the message with: retract open LINK --code NNNNNN")
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
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let refusal = try? decoder.decode(Refusal.self, from: data) else {
            return OpenCommandError("the server answered HTTP \(status)")
        }
        if refusal.error == "code_required" {
            return OpenCommandError(
                "this message opens only with a 6-digit code mailed to \(refusal.sentTo ?? "the recipient"): "
                    + "open the link in a browser, or run retract open LINK --send-code, "
                    + "then retract open LINK --code NNNNNN")
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
