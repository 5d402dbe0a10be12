import Foundation
import Mail
import Seal
import Testing

@Suite("End to end: revoking through the built binary", .serialized)
struct RevokeEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-revoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    func outbox() throws -> [ParsedMail] {
        let directory = root.appendingPathComponent(".retract/outbox")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return try names.filter { $0.hasSuffix(".eml") }
            .map { try ParsedMail(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    func mails(to address: String) throws -> [ParsedMail] {
        try outbox().filter { $0.header("To")?.contains(address) == true }
    }

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    @Test("opened, unopened and replaced recipients get the right outcome, one notice each, threaded; the replacement opens")
    func outcomesThroughTheBinary() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        let sent = try cli.run([
            "send", "--from", "Alice <alice@corp.test>", "--to", "bob@partner.test", "--cc", "carol@partner.test",
            "--bcc", "dave@hidden.test", "--subject", "Price list", "--body", "Price: 100", "--public-url", base, "--json",
        ])
        let id = try json(sent.stdout)["id"] as! String
        let bobLink = try Link.parse(try #require(try mails(to: "bob@partner.test").first?.links.first))
        let (opened, _, _) = try await HTTP.postJSON(
            "\(base)/m/\(bobLink.token.base64url)/open", ["key": bobLink.linkKey.base64url])
        #expect(opened == 200)

        let one = try cli.run(["revoke", id, "--recipient", "carol@partner.test", "--reason", "wrong address", "--json"])
        #expect(one.status == 0, "\(one.stderr)")
        let oneReport = try json(one.stdout)
        let carolRow = (oneReport["recipients"] as! [[String: Any]])[0]
        #expect(carolRow["outcome"] as? String == "revoked_before_open")
        #expect(carolRow["notice"] as? String == "withdrawal")

        let rest = try cli.run([
            "revoke", id, "--reason", "price corrected", "--replace-body", "Price: 120", "--public-url", base, "--json",
        ])
        #expect(rest.status == 0, "\(rest.stderr)")
        let report = try json(rest.stdout)
        let rows = report["recipients"] as! [[String: Any]]
        let bob = try #require(rows.first { $0["address"] as? String == "bob@partner.test" })
        #expect(bob["outcome"] as? String == "revoked_after_open")
        #expect(bob["opened_at"] is String)
        #expect(bob["notice"] as? String == "correction")
        #expect(rows.first { $0["address"] as? String == "carol@partner.test" }?["already_revoked"] as? Bool == true)
        #expect(report["replacement_id"] is String)

        let (gone, _, _) = try await HTTP.postJSON(
            "\(base)/m/\(bobLink.token.base64url)/open", ["key": bobLink.linkKey.base64url])
        #expect(gone == 410)

        for address in ["bob@partner.test", "dave@hidden.test"] {
            let all = try mails(to: address)
            #expect(all.count == 2, "notification and one correction for \(address)")
            let notification = try #require(all.first { $0.header("Subject") == "Price list" })
            let notice = try #require(all.first { $0.header("Subject") == "Correction: Price list" })
            #expect(notice.header("In-Reply-To") == notification.header("Message-ID"))
            let newLink = try Link.parse(try #require(notice.links.first))
            let (status, body, _) = try await HTTP.postJSON(
                "\(base)/m/\(newLink.token.base64url)/open", ["key": newLink.linkKey.base64url])
            #expect(status == 200)
            #expect((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["body_text"] as? String == "Price: 120")
        }
        let carol = try mails(to: "carol@partner.test")
        #expect(carol.count == 2, "notification and one withdrawal, no replacement")
        #expect(carol.contains { $0.header("Subject") == "Withdrawn: Price list" })
        #expect(try mails(to: "alice@corp.test").count == 2, "one recall report per revoke call")

        let status = try json(try cli.run(["status", id, "--json"]).stdout)
        #expect((status["recipients"] as! [[String: Any]]).allSatisfy { $0["state"] as? String == "revoked" })
        #expect(status["content_available"] as? Bool == false)
    }

    @Test("revoking inside the undo window delivers nothing, even after serve has run past the due time")
    func undoWindow() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let sent = try cli.run([
            "send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "Oops", "--body", "b",
            "--delay", "3s", "--public-url", "http://127.0.0.1:\(port)", "--json",
        ])
        let id = try json(sent.stdout)["id"] as! String
        #expect(try outbox().isEmpty)
        let revoke = try cli.run(["revoke", id, "--json"])
        let row = (try json(revoke.stdout)["recipients"] as! [[String: Any]])[0]
        #expect(row["outcome"] as? String == "cancelled_before_delivery")
        #expect(row["notice"] as? String == "none")
        try await Task.sleep(for: .seconds(5))
        #expect(try mails(to: "bob@partner.test").isEmpty)
    }

    @Test("an override template that does not parse stops revoke with one error line and revokes nothing")
    func brokenTemplateOverride() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let sent = try cli.run([
            "send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "s", "--body", "b", "--json",
        ])
        let id = try json(sent.stdout)["id"] as! String
        let templates = root.appendingPathComponent("templates/en")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try Data("{{#unclosed}} oops".utf8).write(to: templates.appendingPathComponent("withdrawal.text.mustache"))
        var broken = cli
        broken.environment["RETRACT_TEMPLATES_DIR"] = root.appendingPathComponent("templates").path
        let revoke = try broken.run(["revoke", id])
        #expect(revoke.status != 0)
        #expect(revoke.stderr.hasPrefix("retract: error:"))
        #expect(revoke.stderr.split(separator: "\n").count == 1)
        let status = try json(try cli.run(["status", id, "--json"]).stdout)
        #expect((status["recipients"] as! [[String: Any]]).allSatisfy { $0["state"] as? String == "live" })
    }

    @Test("conflicting or unknown revoke options fail with one line and change nothing")
    func badRevokeInput() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let id = try json(try cli.run([
            "send", "--from", "alice@corp.test", "--to", "bob@partner.test", "--subject", "s", "--body", "b", "--json",
        ]).stdout)["id"] as! String
        let cases: [[String]] = [
            ["revoke", "ffffffffffffffffffffffffffffffff"],
            ["revoke", id, "--recipient", "eve@elsewhere.test"],
            ["revoke", id, "--notify", "none", "--replace-body", "x"],
            ["revoke", id, "--notify", "sometimes"],
            ["revoke", id, "--replace-body-file", "missing.txt"],
            ["revoke", id, "--replace-body", "x", "--replace-attach", "missing.pdf"],
        ]
        for arguments in cases {
            let result = try cli.run(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.hasPrefix("retract: error:"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        let status = try json(try cli.run(["status", id, "--json"]).stdout)
        #expect((status["recipients"] as! [[String: Any]]).allSatisfy { $0["state"] as? String == "live" })
    }
}
