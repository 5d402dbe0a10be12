import Foundation
import Mail
import Seal
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("End to end: the sender API of the built binary", .serialized)
struct APIEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    func mails(to address: String) throws -> [ParsedMail] {
        let directory = root.appendingPathComponent(".retract/outbox")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return try names.filter { $0.hasSuffix(".eml") }
            .map { try ParsedMail(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent($0)))) }
            .filter { $0.header("To")?.contains(address) == true }
    }

    @Test(
        "a sender made with `retract senders add --json` sends multipart with an attachment, reads its state and revokes"
    )
    func sendAndRevokeOverTheAPI() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["senders", "add", "alice@corp.test", "--name", "Alice Example", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])?["token"] as? String)
        let (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)/api/v1"

        let (unauthorized, _) = try await HTTP.api("GET", "\(base)/messages", token: "rt_wrong")
        #expect(unauthorized == 401)

        let boundary = "e2e-\(UUID().uuidString)"
        let attachment = Data((0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var body = Data()
        for (name, value) in [
            ("to", "bob@partner.test"), ("subject", "Contract"), ("body", "The contract is attached."),
        ] {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Data(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"contract.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
                .utf8)
        body += attachment + Data("\r\n--\(boundary)--\r\n".utf8)
        let (created, receipt) = try await HTTP.api(
            "POST", "\(base)/messages", token: token, contentType: "multipart/form-data; boundary=\(boundary)",
            body: body)
        #expect(created == 201, "\(receipt)")
        let id = try #require(receipt["id"] as? String)

        let link = try Link.parse(try #require(try mails(to: "bob@partner.test").first?.links.first))
        let opened = try await HTTP.postJSON(
            "http://127.0.0.1:\(port)/m/\(link.token.base64url)/open", ["key": link.linkKey.base64url])
        #expect(opened.0 == 200)
        let message = (try? JSONSerialization.jsonObject(with: opened.1)) as? [String: Any] ?? [:]
        #expect(message["from"] as? String == "Alice Example <alice@corp.test>")
        #expect((message["attachments"] as? [[String: Any]])?.first?["size"] as? Int == attachment.count)

        let (shown, status) = try await HTTP.api("GET", "\(base)/messages/\(id)", token: token)
        #expect(shown == 200)
        let row = (status["recipients"] as? [[String: Any]])?.first ?? [:]
        #expect(row["first_opened_at"] is String)
        #expect(status["attachments"] as? Int == 1)

        let (revoked, report) = try await HTTP.api(
            "POST", "\(base)/messages/\(id)/revoke", token: token, contentType: "application/json",
            body: try JSONSerialization.data(withJSONObject: ["reason": "wrong version", "notify": "all"]))
        #expect(revoked == 200)
        let reportRow = (report["recipients"] as? [[String: Any]])?.first ?? [:]
        #expect(reportRow["outcome"] as? String == "revoked_after_open")
        #expect(reportRow["notice"] as? String == "correction")

        let gone = try await HTTP.postJSON(
            "http://127.0.0.1:\(port)/m/\(link.token.base64url)/open", ["key": link.linkKey.base64url])
        #expect(gone.0 == 410)
        let uploads = root.appendingPathComponent(".retract/uploads").path
        #expect((try? FileManager.default.contentsOfDirectory(atPath: uploads))?.isEmpty ?? true)
    }
}
