import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

/// Issue 16, item 2: logs an operator can ship, and nothing secret in them.
@Suite("End to end: JSON logs of a whole scenario hold every request and no secret", .serialized)
struct LogSecretsEndToEndTests {
    static let apiSubject = "Quarterly figures ZX81"
    static let verifiedSubject = "Salaries KQ42"
    static let gatewaySubject = "Gateway merger plan VW17"

    let root: URL
    var cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-logs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
        cli.environment = [
            "RETRACT_ADMIN": "alice@corp.test", "RETRACT_INTERNAL_DOMAINS": "corp.test",
            "RETRACT_LOG_FORMAT": "json", "RETRACT_LOG_LEVEL": "debug",
        ]
    }

    func outbox() throws -> [ParsedMail] {
        let directory = root.appendingPathComponent(".retract/outbox")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return try names.filter { $0.hasSuffix(".eml") }.sorted()
            .map { try ParsedMail(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    /// The outbox's mails once `condition` holds of them (the worker writes them shortly after).
    func waitForOutbox(_ condition: ([ParsedMail]) -> Bool) async throws -> [ParsedMail] {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let mails = try outbox()
            if condition(mails) { return mails }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw EndToEndError("the expected mails did not reach the outbox within 60 s")
    }

    /// smtplib hands one message to the gateway from 127.0.0.1 (trusted by default).
    func sendThroughGateway(port: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import smtplib
            s = smtplib.SMTP("127.0.0.1", \(port), timeout=30)
            s.sendmail("alice@corp.test", ["bob@partner.test"], b"From: Alice <alice@corp.test>\\r\\nTo: bob@partner.test\\r\\nSubject: \(Self.gatewaySubject)\\r\\nDate: Fri, 4 Dec 2026 10:00:00 +0000\\r\\nMessage-ID: <gw-1@corp.test>\\r\\n\\r\\nThe plan.\\r\\n")
            s.quit()
            """,
        ]
        try process.runSafely()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("send over the API, a verified send with its code, opens, web sign-in, a gateway message, revoke: every line is JSON, every request has its route, status, duration and id, and no token, key, password, cookie, code, capability or subject appears")
    func noSecretInAnyLine() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Given a vault whose first sender's password and API token init printed once
        let initialised = try cli.run(["init"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        func printed(_ label: String) -> String? {
            initialised.stdout.split(separator: "\n").first { $0.contains(label) }
                .map { String($0.components(separatedBy: label).last ?? "").trimmingCharacters(in: .whitespaces) }
        }
        let token = try #require(printed("API token: "))
        let password = try #require(printed("password: "))
        var secrets = [token, password]
        var cliOutput = initialised.stderr

        // And retract serve with the gateway, its standard error (the log) in a file
        let logURL = root.appendingPathComponent("serve.log")
        #expect(FileManager.default.createFile(atPath: logURL.path, contents: nil))
        let log = try FileHandle(forWritingTo: logURL)
        let smtpPort = try PostfixInstance.freePort()
        let (server, port) = try cli.startServer(extra: ["--smtp-listen", "127.0.0.1:\(smtpPort)"], standardError: log)
        var stopped = false
        defer { if !stopped { server.terminate(); server.waitUntilExit() } }
        #expect(try PostfixInstance.waitForPortOpen(smtpPort))
        let base = "http://127.0.0.1:\(port)"

        // When a message is sent over the API and its link opened
        let boundary = "logs-\(UUID().uuidString)"
        var body = Data()
        for (name, value) in [("to", "bob@partner.test"), ("subject", Self.apiSubject), ("body", "Figures inside.")] {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        let (created, receipt) = try await HTTP.api(
            "POST", "\(base)/api/v1/messages", token: token, contentType: "multipart/form-data; boundary=\(boundary)",
            body: body)
        #expect(created == 201, "\(receipt)")
        let id = try #require(receipt["id"] as? String)
        let apiMail = try #require(
            try await waitForOutbox { $0.contains { $0.header("Subject") == Self.apiSubject } }
                .first { $0.header("Subject") == Self.apiSubject })
        let link = try Link.parse(try #require(apiMail.links.first { $0.contains("/m/") }))
        let opened = try await HTTP.postJSON("\(base)/m/\(link.token.base64url)/open", ["key": link.linkKey.base64url])
        #expect(opened.0 == 200)
        let (wrongKey, _, _) = try await HTTP.postJSON(
            "\(base)/m/\(link.token.base64url)/open", ["key": String(repeating: "A", count: 43)])
        #expect(wrongKey == 403)

        // And a verified message is sent, its code requested and used
        let verified = try cli.run([
            "send", "--from", "alice@corp.test", "--to", "carol@partner.test", "--subject", Self.verifiedSubject,
            "--body", "The numbers.", "--verify", "--public-url", base,
        ])
        #expect(verified.status == 0, "\(verified.stderr)")
        cliOutput += verified.stderr
        let verifiedMail = try #require(try outbox().first { $0.header("Subject") == Self.verifiedSubject })
        let verifiedLink = try #require(verifiedMail.links.first { $0.contains("/m/") })
        let requested = try cli.run(["open", verifiedLink, "--send-code"])
        #expect(requested.status == 0, "\(requested.stderr)")
        cliOutput += requested.stderr
        let codeMail = try #require(
            try await waitForOutbox { $0.contains { $0.header("Subject")?.contains("verification code") == true } }
                .first { $0.header("Subject")?.contains("verification code") == true })
        let code = try #require(
            (codeMail.textBody ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .first { $0.count == 6 && $0.allSatisfy(\.isNumber) })
        let withCode = try cli.run(["open", verifiedLink, "--code", code])
        #expect(withCode.status == 0, "\(withCode.stderr)")
        cliOutput += withCode.stderr

        // And the sender signs in to the web app with the password
        let browser = HTTPFormClient()
        let signInPage = try await browser.get("\(base)/app/sign-in")
        let signedIn = try await browser.post(
            "\(base)/app/sign-in",
            [
                ("csrf", HTTPFormClient.hidden("csrf", in: signInPage.text) ?? ""), ("address", "alice@corp.test"),
                ("password", password), ("next", "/app/messages"),
            ])
        #expect(signedIn.status == 303, "\(signedIn.text.prefix(300))")
        #expect(try await browser.get("\(base)/app/messages").status == 200)
        secrets += browser.cookieValues.filter { $0.count >= 16 }

        // And a message goes through the gateway, and its receipt arrives
        try sendThroughGateway(port: smtpPort)
        let mails = try await waitForOutbox { mails in
            mails.contains { $0.header("Subject")?.contains(Self.gatewaySubject) == true && $0.links.contains { $0.contains("/m/") } }
                && mails.contains { $0.links.contains { $0.contains("/app/manage#") } }
        }

        // And the API message is revoked
        let (revoked, _) = try await HTTP.api(
            "POST", "\(base)/api/v1/messages/\(id)/revoke", token: token, contentType: "application/json",
            body: try JSONSerialization.data(withJSONObject: ["reason": "wrong version", "notify": "all"]))
        #expect(revoked == 200)
        let (gone, _, _) = try await HTTP.postJSON("\(base)/m/\(link.token.base64url)/open", ["key": link.linkKey.base64url])
        #expect(gone == 410)
        server.terminate()
        server.waitUntilExit()
        stopped = true
        try log.close()

        // Then every secret the scenario handled is known: links' tokens and keys, the
        // manage capability, the recall address, the code, the subjects
        for mail in mails {
            for text in mail.links {
                if let parsed = try? Link.parse(text) { secrets += [parsed.token.base64url, parsed.linkKey.base64url] }
                if let hash = text.range(of: "/app/manage#") { secrets.append(String(text[hash.upperBound...])) }
            }
            for address in (try? mail.addresses("Reply-To")) ?? [] where address.address.hasPrefix("recall+") {
                secrets.append(address.address)
            }
        }
        #expect(secrets.count >= 8)
        let subjects = [Self.apiSubject, Self.verifiedSubject, Self.gatewaySubject, "ZX81", "KQ42", "VW17"]

        // And the server's log and the commands' logs hold none of them
        // (a command's standard error also carries its console notes, `retract: note: …`)
        let serverLog = try String(contentsOf: logURL, encoding: .utf8)
        let lines = serverLog.split(separator: "\n", omittingEmptySubsequences: true)
        let commandLines = cliOutput.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count > 20)
        for line in lines + commandLines {
            for secret in secrets + subjects {
                #expect(!line.contains(secret), "a log line holds a secret: \(line)")
            }
            #expect(line.firstMatch(of: try Regex("\\b\(code)\\b")) == nil, "a log line holds the code: \(line)")
        }
        // And every line the server logged is one JSON object
        for line in lines + commandLines.filter({ !$0.hasPrefix("retract: ") }) {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String, "not a JSON log line: \(line)")
        }

        // And every request left one line with its route template, status, duration and id
        let requests = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["message"] as? String == "request" }
        let routes = Set(requests.compactMap { $0["route"] as? String })
        #expect(routes.isSuperset(of: ["/m/{token}/open", "/api/v1/messages", "/app/sign-in"]), "\(routes)")
        #expect(requests.contains { $0["route"] as? String == "/m/{token}/open" && $0["status"] as? String == "410" })
        #expect(requests.allSatisfy { $0["request_id"] is String && $0["duration_ms"] is String && $0["method"] is String })
    }
}
