import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

@Suite("End to end: the built binary, a real server on loopback, real HTTP", .serialized)
struct SendAndOpenEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    func outbox() throws -> [ParsedMail] {
        let directory = root.appendingPathComponent(".retract/outbox")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".eml") }
            .map { try ParsedMail(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    @Test("send to To, Cc and Bcc with a Chinese subject and a 5 MiB attachment; every link opens and downloads it")
    func fullJourney() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"

        var generator = SplitMix64(seed: 5)
        let attachment = Data((0..<(5 * 1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let attachmentURL = root.appendingPathComponent("合同.bin")
        try attachment.write(to: attachmentURL)

        let send = try cli.run([
            "send", "--from", "Alice Wang <alice@corp.test>", "--to", "bob@partner.test", "--cc", "carol@partner.test",
            "--bcc", "dave@hidden.test", "--subject", "季度报告：请审阅", "--body", "请看附件。",
            "--attach", attachmentURL.path, "--public-url", base, "--json",
        ])
        #expect(send.status == 0, "\(send.stderr)")
        #expect(!send.stdout.contains("#"), "no link key is printed without --show-links")
        let receipt = try JSONSerialization.jsonObject(with: Data(send.stdout.utf8)) as! [String: Any]
        let messageID = receipt["id"] as! String

        let mails = try outbox()
        #expect(mails.count == 3)
        var links: [String: String] = [:]
        for mail in mails {
            #expect(mail.header("Subject") == "季度报告：请审阅")
            let to = try #require(mail.header("To"))
            let link = try #require(mail.links.first { $0.hasPrefix(base + "/m/") })
            links[to] = link
            if !to.contains("dave@hidden.test") {
                #expect(!(mail.textBody ?? "").contains("dave@hidden.test"))
                #expect(!(mail.htmlBody ?? "").contains("dave@hidden.test"))
            }
        }
        #expect(links.count == 3)

        for (_, link) in links {
            let parsed = try Link.parse(link)
            let page = base + "/m/" + parsed.token.base64url
            let (getStatus, _, headers) = try await HTTP.get(page)
            #expect(getStatus == 200)
            #expect(headers["content-security-policy"]?.contains("default-src 'none'") == true)
            let (openStatus, openBody, _) = try await HTTP.postJSON(page + "/open", ["key": parsed.linkKey.base64url])
            #expect(openStatus == 200)
            let opened = try JSONSerialization.jsonObject(with: openBody) as! [String: Any]
            #expect(opened["subject"] as? String == "季度报告：请审阅")
            let attachments = opened["attachments"] as! [[String: Any]]
            #expect(attachments.first?["size"] as? Int == attachment.count)
            let (downloadStatus, downloaded, _) = try await HTTP.postJSON(
                page + "/attachments/1", ["key": parsed.linkKey.base64url])
            #expect(downloadStatus == 200)
            #expect(downloaded == attachment)
        }

        let status = try cli.run(["status", messageID, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        let recipients = report["recipients"] as! [[String: Any]]
        #expect(recipients.count == 3)
        for recipient in recipients {
            #expect(recipient["views"] as? Int == 1)
            #expect(recipient["first_opened_at"] is String)
            #expect(recipient["delivery"] as? String == "sent")
        }
        #expect(Set(recipients.compactMap { $0["kind"] as? String }) == ["to", "cc", "bcc"])
    }

    @Test("retract open reads a link over HTTP and saves the attachment byte-identical")
    func cliReader() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        let file = root.appendingPathComponent("notes.txt")
        try Data("line one\nline two\n".utf8).write(to: file)
        let send = try cli.run([
            "send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "Notes",
            "--body", "Notes attached.", "--attach", file.path, "--public-url", base, "--show-links", "--json",
        ])
        let receipt = try JSONSerialization.jsonObject(with: Data(send.stdout.utf8)) as! [String: Any]
        let link = ((receipt["recipients"] as! [[String: Any]])[0]["link"] as! String)
        let out = root.appendingPathComponent("saved")
        let open = try cli.run(["open", link, "--out", out.path])
        #expect(open.status == 0, "\(open.stderr)")
        #expect(open.stdout.contains("Notes attached."))
        #expect(try Data(contentsOf: out.appendingPathComponent("notes.txt")) == Data(contentsOf: file))

        let wrong = try cli.run(["open", String(link.dropLast(3)) + "AAA"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.hasPrefix("retract: error:"))
    }

    @Test("every command refuses a master key readable by others and says how to fix it")
    func exposedKeyRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let keys = root.appendingPathComponent("keys")
        let keyFile = try #require(try FileManager.default.contentsOfDirectory(atPath: keys.path).first { $0.hasSuffix(".key") })
        let attributes = try FileManager.default.attributesOfItem(atPath: keys.appendingPathComponent(keyFile).path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keys.appendingPathComponent(keyFile).path)
        let result = try cli.run(["list"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("chmod 600"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("bad input gets one retract: error: line and a non-zero exit, and stores nothing")
    func badInput() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let cases: [[String]] = [
            ["send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "s", "--body", "b", "--attach", "missing.pdf"],
            ["send", "--from", "alice@corp.test", "--to", "bad address", "--subject", "s", "--body", "b"],
            ["send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "a\nb", "--body", "b"],
            ["send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "s", "--body", "b", "--expires", "soon"],
            ["status", "0123456789abcdef0123456789abcdef"],
        ]
        for arguments in cases {
            let result = try cli.run(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.hasPrefix("retract: error:"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        let list = try cli.run(["list", "--json"])
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any]
        #expect(listed?.isEmpty == true)
        let outbox = root.appendingPathComponent(".retract/outbox").path
        let delivered = (try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []
        #expect(delivered.isEmpty)
    }
}
