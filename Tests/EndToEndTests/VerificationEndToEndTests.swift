import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

@Suite("End to end: a message sent with --verify opens only with the code mailed through the outbox", .serialized)
struct VerificationEndToEndTests {
    let root: URL
    let cli: RetractBinary
    static let codeSubject = "Your verification code for a secure message"

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    func outbox() throws -> [ParsedMail] {
        let directory = root.appendingPathComponent(".retract/outbox")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return try names.filter { $0.hasSuffix(".eml") }
            .map { try ParsedMail(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    /// Waits for the server's outbox worker to deliver `count` code mails; returns the newest code.
    func waitForCodeMail(count: Int) async throws -> String {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let mails = try outbox().filter { $0.header("Subject") == Self.codeSubject }
            if mails.count >= count {
                let newest = mails.max {
                    ($0.header("Date").flatMap(MailDateParse.parse) ?? .distantPast)
                        < ($1.header("Date").flatMap(MailDateParse.parse) ?? .distantPast)
                }
                let lines = (newest?.textBody ?? "").split(separator: "\n").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                return try #require(lines.first { $0.count == 6 && $0.allSatisfy(\.isNumber) })
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw EndToEndError("no verification mail arrived in the outbox within 60 s")
    }

    @Test("send --verify; the key alone is refused; retract open --send-code mails a code; --code opens the message")
    func verifiedJourney() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"

        let send = try cli.run([
            "send", "--from", "Alice <alice@corp.test>", "--to", "bob@partner.test", "--subject", "Salaries",
            "--body", "The numbers.", "--verify", "--public-url", base, "--json",
        ])
        #expect(send.status == 0, "\(send.stderr)")
        let notification = try #require(try outbox().first { $0.header("Subject") == "Salaries" })
        let link = try #require(notification.links.first { $0.hasPrefix(base + "/m/") })
        let parsed = try Link.parse(link)
        let page = base + "/m/" + parsed.token.base64url

        let (getStatus, getBody, _) = try await HTTP.get(page)
        #expect(getStatus == 200)
        #expect(String(decoding: getBody, as: UTF8.self).contains("b***@partner.test"))

        let (keyOnly, keyOnlyBody, _) = try await HTTP.postJSON(page + "/open", ["key": parsed.linkKey.base64url])
        #expect(keyOnly == 403)
        let refusal = try JSONSerialization.jsonObject(with: keyOnlyBody) as? [String: Any]
        #expect(refusal?["error"] as? String == "code_required")

        let plainOpen = try cli.run(["open", link])
        #expect(plainOpen.status != 0)
        #expect(plainOpen.stderr.contains("open the link in a browser"))
        #expect(plainOpen.stderr.contains("b***@partner.test"))

        let request = try cli.run(["open", link, "--send-code"])
        #expect(request.status == 0, "\(request.stderr)")
        #expect(request.stdout.contains("a 6-digit code was mailed to b***@partner.test"))
        let code = try await waitForCodeMail(count: 1)
        let codeMail = try #require(try outbox().first { $0.header("Subject") == Self.codeSubject })
        #expect(try codeMail.addresses("To").map(\.address) == ["bob@partner.test"])
        #expect(!request.stdout.contains(code) && !request.stderr.contains(code))

        let wrong = code == "000000" ? "000001" : "000000"
        let (wrongStatus, wrongBody, _) = try await HTTP.postJSON(
            page + "/open", ["key": parsed.linkKey.base64url, "code": wrong])
        #expect(wrongStatus == 403)
        #expect(
            (try JSONSerialization.jsonObject(with: wrongBody) as? [String: Any])?["error"] as? String == "invalid_code"
        )

        let opened = try cli.run(["open", link, "--code", code])
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.contains("Subject: Salaries"))
        #expect(opened.stdout.contains("The numbers."))
    }
}

/// Parses the RFC 5322 `Date` header the mails carry, for picking the newest.
enum MailDateParse {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
        return formatter.date(from: text)
    }
}
