import Foundation
import RetractTestSupport
import Testing

@testable import Mail

@Suite("SMTP configuration")
struct SMTPConfigurationTests {
    @Test(
        "each scheme selects its security and default port",
        arguments: [
            ("smtp://relay.example.org", SMTPConfiguration.Security.plain, 25),
            ("smtp+starttls://smtp.example.org", .startTLS, 587),
            ("SMTPS://smtp.example.org", .implicitTLS, 465),
            ("smtp://relay.example.org:2525/", .plain, 2525),
        ])
    func schemes(url: String, security: SMTPConfiguration.Security, port: Int) throws {
        let configuration = try SMTPConfiguration(url: url, heloName: "client.example.com")
        #expect(configuration.security == security)
        #expect(configuration.port == port)
        #expect(configuration.username == nil)
        #expect(configuration.timeouts == SMTPConfiguration.Timeouts())
        #expect(configuration.timeouts.connect == .seconds(10) && configuration.timeouts.dataEnd == .seconds(120))
    }

    @Test("credentials are percent-decoded and never shown")
    func credentials() throws {
        let configuration = try SMTPConfiguration(
            url: "smtps://alice%40example.com:p%40ss%3Aw%2Frd@Smtp.Example.com:465")
        #expect(configuration.username == "alice@example.com")
        #expect(configuration.password == "p@ss:w/rd")
        #expect(configuration.host == "smtp.example.com")
        #expect(configuration.description == "smtps://smtp.example.com:465 (user \"alice@example.com\")")
        #expect(!"\(configuration)".contains("p@ss") && !String(reflecting: configuration.description).contains("w/rd"))

        let raw = try SMTPConfiguration(url: "smtp+starttls://bob@example.org:secret@mail.example.org")
        #expect(raw.username == "bob@example.org" && raw.password == "secret" && raw.host == "mail.example.org")
    }

    @Test("a password over an unencrypted connection is refused unless the host is loopback")
    func plaintextCredentials() throws {
        do throws(MailError) {
            _ = try SMTPConfiguration(url: "smtp://alice:hunter2@mail.example.org")
            Issue.record("expected a refusal")
        } catch {
            #expect(error == MailError.invalidConfiguration)
            #expect(error.description.contains("unencrypted") && error.description.contains("mail.example.org"))
            #expect(!error.description.contains("hunter2") && !error.description.contains("\n"))
            #expect(!error.isTemporary && error.isConfigurationProblem)
        }
        for host in ["localhost", "127.0.0.1", "127.8.9.10", "[::1]", "[::ffff:127.0.0.1]"] {
            #expect(try SMTPConfiguration(url: "smtp://alice:hunter2@\(host):2525").password == "hunter2")
        }
        #expect(throws: MailError.invalidConfiguration) { try SMTPConfiguration(url: "smtp://a:b@128.0.0.1") }
        #expect(throws: MailError.invalidConfiguration) { try SMTPConfiguration(url: "smtp://a:b@localhost.evil.com") }
    }

    @Test("IPv6 literals need brackets and are stored without them")
    func ipv6() throws {
        let configuration = try SMTPConfiguration(url: "smtps://[2001:db8::25]:4650")
        #expect(configuration.host == "2001:db8::25" && configuration.port == 4650)
        #expect(configuration.endpoint == "[2001:db8::25]:4650")
        #expect(configuration.hostIsIPAddress)
        #expect(try !SMTPConfiguration(url: "smtps://localhost").hostIsIPAddress)
        #expect(throws: MailError.invalidConfiguration) { try SMTPConfiguration(url: "smtp://2001:db8::25") }
    }

    @Test(
        "malformed URLs are refused with a one-line reason that does not echo the password",
        arguments: [
            "mail.example.org", "http://mail.example.org", "smtp://", "smtp://mail.example.org:0",
            "smtp://mail.example.org:70000", "smtp://mail.example.org:+25", "smtp://mail.example.org/inbox",
            "smtps://user@mail.example.org", "smtps://user:pa/Zq9x@mail.example.org",
            "smtps://user:%zz@mail.example.org",
            "smtps://:Zq9x@mail.example.org", "smtp://mäil.example.org", "smtp://[::1", "smtp://mail.example.org?x=1",
        ])
    func malformed(url: String) throws {
        do throws(MailError) {
            _ = try SMTPConfiguration(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error == MailError.invalidConfiguration)
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("Zq9x") && !error.description.contains("%zz"))
        }
    }

    @Test("the CA file is read when the configuration is made")
    func caFile() throws {
        let directory = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try SMTPTestCertificates(in: directory)
        let configuration = try SMTPConfiguration(url: "smtps://localhost", caFile: certificates.caFile)
        #expect(configuration.caFile == certificates.caFile)
        #expect(try SMTPConfiguration(url: "smtps://localhost", caFile: "").caFile == nil)

        let garbage = directory.appendingPathComponent("garbage.pem")
        try "not a certificate".write(to: garbage, atomically: true, encoding: .utf8)
        for path in [garbage.path, directory.appendingPathComponent("missing.pem").path] {
            #expect(throws: MailError.invalidConfiguration) {
                try SMTPConfiguration(url: "smtps://localhost", caFile: path)
            }
        }
    }

    @Test("the EHLO name must be a domain or an address literal")
    func heloName() throws {
        #expect(try SMTPConfiguration(url: "smtp://localhost", heloName: "[192.0.2.1]").heloName == "[192.0.2.1]")
        #expect(try SMTPConfiguration(url: "smtp://localhost").heloName.isEmpty == false)
        for bad in ["two words", "crlf\r\nQUIT", "", "ünï.example"] {
            #expect(throws: MailError.invalidConfiguration) {
                try SMTPConfiguration(url: "smtp://localhost", heloName: bad)
            }
        }
    }
}
