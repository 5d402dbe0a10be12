import Sodium
import Testing

@Suite("Hex")
struct HexTests {
    @Test("encodes lowercase and decodes back")
    func roundTrip() throws {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.encode([]) == "")
        #expect(try Hex.decode("00abff") == [0x00, 0xAB, 0xFF])
        #expect(try Hex.decode("").isEmpty)
    }

    @Test("rejects uppercase, odd lengths and other characters", arguments: ["00ABFF", "0", "abc", "0g", " 00", "00 ", "0x00"])
    func rejects(_ text: String) {
        #expect(throws: SodiumError.invalidEncoding) { try Hex.decode(text) }
    }
}
