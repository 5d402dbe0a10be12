import Seal
import Sodium
import Testing

@Suite("Links, tokens and link keys")
struct LinkTests {
    @Test("a generated link prints and parses back to the same token and key")
    func roundTrip() throws {
        let secrets = GrantSecrets.generate()
        let url = secrets.link.url(publicBase: "https://retract.example.com/")
        let parsed = try Link.parse(url)

        #expect(url.hasPrefix("https://retract.example.com/m/"))
        #expect(parsed.token == secrets.token)
        #expect(parsed.linkKey.base64url == secrets.linkKey.base64url)
        #expect(parsed.url(publicBase: "https://retract.example.com") == url)
    }

    @Test("url(publicBase:) drops any trailing slashes of the base")
    func trailingSlashes() throws {
        let link = GrantSecrets.generate().link
        let plain = link.url(publicBase: "http://127.0.0.1:8080")
        #expect(link.url(publicBase: "http://127.0.0.1:8080/") == plain)
        #expect(link.url(publicBase: "http://127.0.0.1:8080//") == plain)
        #expect(link.url(publicBase: "https://host/prefix/").hasPrefix("https://host/prefix/m/"))
    }

    @Test("the token is 22 characters and the key 43 in link form")
    func lengths() {
        for _ in 0..<50 {
            #expect(GrantToken.random().base64url.utf8.count == 22)
            #expect(LinkKey.generate().base64url.utf8.count == 43)
        }
    }

    @Test("parsing accepts any base ending in /m/ and needs no scheme")
    func anyBase() throws {
        let secrets = GrantSecrets.generate()
        let suffix = "/m/\(secrets.token.base64url)#\(secrets.linkKey.base64url)"
        for base in ["", "https://a.example", "http://127.0.0.1:8080/retract", "retract.example"] {
            #expect(try Link.parse(base + suffix).token == secrets.token)
        }
    }

    @Test("links without a fragment, without /m/ or with a query are malformed")
    func malformed() {
        let token = GrantToken.random().base64url
        let key = LinkKey.generate().base64url
        for text in [
            "https://x.example/m/\(token)",
            "https://x.example/n/\(token)#\(key)",
            "https://x.example/mm/\(token)#\(key)",
            "https://x.example/m/\(token)?utm=1#\(key)",
            "https://x.example/m/\(token)/#\(key)",
            "\(token)#\(key)",
            "",
            "#",
        ] {
            #expect(throws: SealError.malformedLink, "\(text)") { try Link.parse(text) }
        }
    }

    @Test("non-canonical token or key text in a link is refused")
    func nonCanonical() {
        let token = GrantToken.random().base64url
        let key = LinkKey.generate().base64url
        for text in [
            "https://x.example/m/\(token)#\(key)=",
            "https://x.example/m/\(token)#\(key) ",
            "https://x.example/m/\(token)#\(key)#",
            "https://x.example/m/\(token)#",
            "https://x.example/m/#\(key)",
            "https://x.example/m/\(token.dropLast())#\(key)",
            "https://x.example/m/\(token)#\(key.dropLast())",
        ] {
            #expect(throws: SealError.nonCanonicalEncoding, "\(text)") { try Link.parse(text) }
        }
    }

    @Test(
        "tokens accept only their one canonical 22-character form",
        arguments: [
            "AAAAAAAAAAAAAAAAAAAAAB",  // trailing bits set
            "AAAAAAAAAAAAAAAAAAAAAA=",  // padding
            "AAAAAAAAAAAAAAAAAAAAA",  // 21 characters
            "AAAAAAAAAAAAAAAAAAAAAAA",  // 23 characters
            "AAAAAAAAAAAAAAAAAAAA+A",  // standard alphabet
            "AAAAAAAAAAAAAAAAAAAA A",  // whitespace
            "",
        ]
    )
    func tokenText(_ text: String) {
        #expect(throws: SealError.nonCanonicalEncoding) { try GrantToken(base64url: text) }
    }

    @Test("a canonical token with the highest legal last character parses")
    func tokenEdges() throws {
        #expect(try GrantToken(base64url: "AAAAAAAAAAAAAAAAAAAAAA").bytes == [UInt8](repeating: 0, count: 16))
        #expect(try GrantToken(base64url: "_____________________w").bytes == [UInt8](repeating: 0xFF, count: 16))
        #expect(throws: SealError.nonCanonicalEncoding) { try GrantToken(base64url: "_____________________x") }
        #expect(throws: SealError.invalidLength) { try GrantToken(bytes: [1, 2, 3]) }
    }

    @Test("link keys accept only their one canonical 43-character form")
    func linkKeyText() throws {
        let zeros = String(repeating: "A", count: 43)
        #expect(try LinkKey(base64url: zeros).base64url == zeros)
        #expect(try LinkKey(base64url: String(repeating: "_", count: 42) + "8").base64url.hasSuffix("8"))
        for text in [
            String(repeating: "A", count: 42) + "B",  // trailing bits set
            String(repeating: "_", count: 42) + "9",  // trailing bits set
            zeros + "=",
            String(repeating: "A", count: 42),
            String(repeating: "A", count: 44),
            String(repeating: "A", count: 42) + "/",
        ] {
            #expect(throws: SealError.nonCanonicalEncoding, "\(text)") { try LinkKey(base64url: text) }
        }
        #expect(throws: SealError.invalidLength) { try LinkKey(secret: SecureBytes(count: 31)) }
    }

    @Test("the token hash is BLAKE2b-256 of the token bytes")
    func tokenHash() throws {
        let token = try GrantToken(bytes: Array(0..<16))
        #expect(token.hash.bytes == GenericHash.hash(Array(0..<16)))
        #expect(token.hash.bytes.count == 32)
        #expect(try TokenHash(bytes: token.hash.bytes) == token.hash)
        #expect(throws: SealError.invalidLength) { try TokenHash(bytes: Array(0..<31)) }
    }

    @Test("links, tokens and link keys never print their secrets")
    func redacted() throws {
        let secrets = GrantSecrets.generate()
        let link = secrets.link
        var dumped = ""
        dump(secrets, to: &dumped)
        dump(link, to: &dumped)
        let printed = [
            "\(link)", "\(secrets.token)", "\(secrets.linkKey)", "\(secrets.share)", "\(secrets)",
            String(reflecting: link), String(reflecting: secrets), dumped,
        ]
        for text in printed {
            #expect(!text.contains(secrets.token.base64url))
            #expect(!text.contains(secrets.linkKey.base64url))
            #expect(!text.contains(Hex.encode(secrets.token.bytes)))
            #expect(!text.contains(String(describing: secrets.token.bytes)))
        }
    }
}
