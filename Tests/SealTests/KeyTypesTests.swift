import Seal
import Sodium
import Testing

@Suite("Key types")
struct KeyTypesTests {
    @Test("master key ids follow the file-name-safe rules")
    func keyIDs() throws {
        for good in ["a", "k1", "2025-01-02", "prod_key-7", String(repeating: "x", count: 64)] {
            #expect(MasterKey.isValidKeyID(good), "\(good)")
            #expect(try MasterKey(kid: good, secret: .random(count: 32)).kid == good)
        }
        for bad in ["", "a b", "../x", "k/1", "k.1", "kid:1", "é", String(repeating: "x", count: 65)] {
            #expect(!MasterKey.isValidKeyID(bad), "\(bad)")
            #expect(throws: SealError.invalidKeyID) { try MasterKey(kid: bad, secret: .random(count: 32)) }
        }
    }

    @Test("keys must be exactly 32 bytes")
    func keyLengths() {
        #expect(throws: SealError.invalidLength) { try MasterKey(kid: "k", secret: .random(count: 31)) }
        #expect(throws: SealError.invalidLength) { try DataKey(secret: .random(count: 33)) }
        #expect(throws: SealError.invalidLength) { try ShareKey(secret: .random(count: 0)) }
        #expect(throws: SealError.invalidLength) { try LinkKey(secret: .random(count: 16)) }
    }

    @Test("a master key copies its secret, so the caller may wipe its buffer")
    func masterCopies() throws {
        let secret = SecureBytes.random(count: 32)
        let expected = secret.withUnsafeBytes { Array($0) }
        let master = try MasterKey(kid: "k", secret: secret)
        secret.zero()
        #expect(master.withUnsafeSecretBytes { Array($0) } == expected)
        #expect(MasterKey.generate(kid: "k").withUnsafeSecretBytes { $0.count } == 32)
    }

    @Test("key descriptions are redacted")
    func redacted() throws {
        let secret = SecureBytes(copying: [UInt8](repeating: 0xAB, count: 32))
        let master = try MasterKey(kid: "k-1", secret: secret)
        let keys: [any CustomStringConvertible] = [
            master, try DataKey(secret: secret), try LinkKey(secret: secret), try ShareKey(secret: secret),
            GrantCrypto.deriveKEK(linkKey: .generate(), token: .random(), share: .generate()),
        ]
        for key in keys {
            var dumped = ""
            dump(key, to: &dumped)
            for text in [key.description, "\(key)", String(reflecting: key), dumped] {
                #expect(text.contains("redacted"))
                #expect(!text.lowercased().contains("abab"))
                #expect(!text.contains("171"))
            }
        }
        #expect(master.description == "MasterKey(kid: k-1, redacted)")
    }

    @Test("errors say what happened without key material")
    func errorMessages() {
        let errors: [SealError] = [
            .invalidKey, .integrity, .truncated, .chunkAfterFinal, .shortChunk, .oversizedChunk, .unexpectedTag,
            .sealedAfterFinal, .malformedLink, .nonCanonicalEncoding, .invalidLength, .malformedEnvelope, .invalidKeyID,
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
        #expect(Set(errors).count == errors.count)
        #expect(SealError.truncated.description.contains("final chunk"))
    }
}
