import Sodium
import Testing

@Suite("Base64URL")
struct Base64URLTests {
    @Test("encodes with the URL-safe alphabet and no padding")
    func encodes() {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.encode(Array(0..<5)) == "AAECAwQ")
        #expect(Base64URL.encode([]) == "")
        #expect(Base64URL.encodedLength(byteCount: 16) == 22)
        #expect(Base64URL.encodedLength(byteCount: 32) == 43)
    }

    @Test("decodes what it encodes, for every length")
    func roundTrip() throws {
        for count in 0...70 {
            let bytes = Random.bytes(count)
            let text = Base64URL.encode(bytes)
            #expect(text.utf8.count == Base64URL.encodedLength(byteCount: count))
            #expect(try Base64URL.decode(text) == bytes)
            #expect(try Base64URL.decodeSecret(text).withUnsafeBytes { Array($0) } == bytes)
        }
    }

    @Test(
        "rejects anything but the canonical form",
        arguments: [
            "AAECAwQ=",  // padding
            "AAECAwQ==",  // padding
            "AAEC AwQ",  // whitespace inside
            " AAECAwQ",  // leading whitespace
            "AAECAwQ\n",  // trailing newline
            "AAECAw+",  // standard alphabet
            "AAECAw/",  // standard alphabet
            "AAECAwR",  // unused trailing bits set
            "AB",  // unused trailing bits set (one byte)
            "A",  // impossible length
            "AAECA",  // impossible length (5 mod 4 = 1)
            "AAEC#",  // outside the alphabet
            "AAEC\u{00E9}",  // non-ASCII
        ]
    )
    func rejects(_ text: String) {
        #expect(throws: SodiumError.invalidEncoding) { try Base64URL.decode(text) }
        #expect(throws: SodiumError.invalidEncoding) { try Base64URL.decodeSecret(text) }
    }
}
