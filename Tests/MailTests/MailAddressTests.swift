import Foundation
import Testing

@testable import Mail

@Suite("Mail addresses")
struct MailAddressTests {
    @Test(
        "valid addresses parse into address and name",
        arguments: [
            ("a@b.example", "a@b.example", nil),
            ("  a@b.example  ", "a@b.example", nil),
            ("<a@b.example>", "a@b.example", nil),
            ("Alice Example <Alice.Smith@Example.COM>", "Alice.Smith@example.com", "Alice Example"),
            ("\"Doe, J\" <j.doe@b.example>", "j.doe@b.example", "Doe, J"),
            ("\"Say \\\"hi\\\"\" <hi@b.example>", "hi@b.example", "Say \"hi\""),
            ("张三 <zhang@example.cn>", "zhang@example.cn", "张三"),
            ("retract@localhost", "retract@localhost", nil),
            ("o'brien+tag@sub.b-c.example", "o'brien+tag@sub.b-c.example", nil),
            ("\"\" <a@b.example>", "a@b.example", nil),
        ] as [(String, String, String?)])
    func accepts(text: String, address: String, name: String?) throws {
        let parsed = try MailAddress(parsing: text)
        #expect(parsed.address == address)
        #expect(parsed.displayName == name)
    }

    @Test(
        "invalid addresses are rejected with a message naming the input",
        arguments: [
            "",
            "plainaddress",
            "@b.example",
            "a@",
            "a b@c.example",
            "a@b example.com",
            "a@localhost2",
            "a@-b.example",
            "a@b-.example",
            "a@b..example",
            "a@b.example.",
            ".a@b.example",
            "a..b@c.example",
            "a@b@c.example",
            "a@b_c.example",
            "\"a b\"@c.example",
            "a@[127.0.0.1]",
            "jörg@b.example",
            "a@bücher.example",
            "Name <a@b.example",
            "Name a@b.example>",
            "\"Unclosed <a@b.example>",
            "Bad \"quote\" <a@b.example>",
            "a@b.example\r\nBcc: x@evil.example",
            "Eve\n <a@b.example>",
            "a@b.exa\0mple",
            String(repeating: "a", count: 65) + "@b.example",
            "a@" + String(repeating: "b", count: 64) + ".example",
            "a@" + Array(repeating: String(repeating: "b", count: 60), count: 5).joined(separator: ".") + ".example",
        ])
    func rejects(text: String) {
        #expect(throws: MailError.invalidAddress) { try MailAddress(parsing: text) }
        do {
            _ = try MailAddress(parsing: text)
        } catch {
            #expect(!error.description.contains("\n") && !error.description.contains("\r"))
        }
    }

    @Test("the error message names the bad input and says what to do")
    func errorMessage() {
        do {
            _ = try MailAddress(parsing: "bob at example.com")
            Issue.record("accepted an address without @")
        } catch {
            #expect(error.description.contains("\"bob at example.com\""))
            #expect(error.description.contains("user@example.com"))
        }
    }

    @Test("a 255-character address is rejected and 254 is accepted")
    func lengthLimit() throws {
        let domain = Array(repeating: String(repeating: "d", count: 61), count: 3).joined(separator: ".") + ".example"
        let base = "@" + domain
        let fits = String(repeating: "l", count: 254 - base.count) + base
        #expect(fits.count == 254)
        #expect(throws: Never.self) { try MailAddress(parsing: fits) }
        #expect(throws: MailError.invalidAddress) { try MailAddress(parsing: "l" + fits) }
    }

    @Test("the display name refuses line breaks")
    func nameInjection() {
        #expect(throws: MailError.invalidAddress) {
            try MailAddress(address: "a@b.example", displayName: "Eve\r\nBcc: victim@example.com")
        }
    }

    @Test("domain and local part are split at the last @ and description quotes specials")
    func partsAndDescription() throws {
        let doe = try MailAddress(parsing: "\"Doe, J\" <J.Doe@B.Example>")
        #expect(doe.localPart == "J.Doe")
        #expect(doe.domain == "b.example")
        #expect(doe.description == "\"Doe, J\" <J.Doe@b.example>")
        #expect(try MailAddress(parsing: "Alice <a@b.example>").description == "Alice <a@b.example>")
        #expect(try MailAddress(parsing: "a@b.example").description == "a@b.example")
        #expect(try MailAddress(parsing: doe.description) == doe)
    }

    @Test("Codable round-trips and decoding validates")
    func codable() throws {
        let original = try MailAddress(parsing: "张三 <zhang@example.cn>")
        let data = try JSONEncoder().encode(original)
        #expect(try JSONDecoder().decode(MailAddress.self, from: data) == original)
        let bad = Data(#"{"address":"not an address"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(MailAddress.self, from: bad) }
    }
}
