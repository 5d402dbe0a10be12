import Foundation
import Seal
import Testing

@Suite("MessageID")
struct MessageIDTests {
    @Test("prints 32 lowercase hex digits and parses them back")
    func roundTrip() throws {
        let id = MessageID.random()
        #expect(id.description.count == 32)
        #expect(id.description == id.description.lowercased())
        #expect(try MessageID(parsing: id.description) == id)
        #expect(try MessageID(parsing: "000102030405060708090a0b0c0d0e0f").bytes == Array(0..<16))
    }

    @Test(
        "rejects every other text form",
        arguments: [
            "000102030405060708090A0B0C0D0E0F",  // uppercase
            "000102030405060708090a0b0c0d0e0",  // 31 digits
            "000102030405060708090a0b0c0d0e0f0",  // 33 digits
            "000102030405060708090a0b0c0d0e0f00",  // 17 bytes
            "000102030405060708090a0b0c0d0e0g",  // not hex
            " 00102030405060708090a0b0c0d0e0f",  // whitespace
            "",
        ]
    )
    func rejects(_ text: String) {
        #expect(throws: SealError.nonCanonicalEncoding) { try MessageID(parsing: text) }
    }

    @Test("bytes must be exactly 16")
    func bytes() {
        #expect(throws: SealError.invalidLength) { try MessageID(bytes: Array(0..<15)) }
        #expect(MessageID.random() != MessageID.random())
    }

    @Test("encodes as its hex string in JSON and refuses non-canonical JSON text")
    func codable() throws {
        let id = try MessageID(parsing: "000102030405060708090a0b0c0d0e0f")
        let json = try JSONEncoder().encode([id])
        #expect(String(decoding: json, as: UTF8.self) == "[\"000102030405060708090a0b0c0d0e0f\"]")
        #expect(try JSONDecoder().decode([MessageID].self, from: json) == [id])
        #expect(throws: SealError.nonCanonicalEncoding) {
            try JSONDecoder().decode([MessageID].self, from: Data("[\"000102030405060708090A0B0C0D0E0F\"]".utf8))
        }
    }
}
