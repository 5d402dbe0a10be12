import Sodium
import Testing

@Suite("GenericHash (BLAKE2b)")
struct GenericHashTests {
    // Reference values from Python's hashlib.blake2b, an independent implementation.

    @Test("unkeyed BLAKE2b-256 matches the reference")
    func unkeyed() throws {
        #expect(Hex.encode(GenericHash.hash([])) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        #expect(Hex.encode(GenericHash.hash(Array("abc".utf8))) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test("other output lengths match the reference")
    func outputLengths() {
        #expect(
            Hex.encode(GenericHash.hash(Array("abc".utf8), outputLength: 64))
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
        #expect(Hex.encode(GenericHash.hash(Array("retract".utf8), outputLength: 16)) == "1a2021aa59c7693b3ed8610f59ac6084")
    }

    @Test("keyed BLAKE2b-256 matches the reference")
    func keyed() {
        var hash = GenericHash(key: SecureBytes(copying: Array(0..<32)))
        hash.update(Array("abc".utf8))
        let digest = hash.finalize()
        #expect(Hex.encode(digest) == "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f")
    }

    @Test("feeding input in pieces gives the same digest as feeding it at once")
    func incremental() {
        let whole = GenericHash.hash(Array("retract/kek/v1 and more".utf8))
        let pieces = GenericHash.hash(Array("retract/".utf8), Array("kek/v1".utf8), [], Array(" and more".utf8))
        var running = GenericHash()
        running.update(Array("retract/kek".utf8))
        running.update(SecureBytes(copying: Array("/v1 and more".utf8)))
        let runningDigest = running.finalize()
        #expect(pieces == whole)
        #expect(runningDigest == whole)
    }

    @Test("a keyed digest can be kept as a secret and depends on the key")
    func keyedSecret() {
        let key = SecureBytes.random(count: 32)
        var first = GenericHash(key: key)
        first.update([1, 2, 3])
        var second = GenericHash(key: key)
        second.update([1, 2, 3])
        var other = GenericHash(key: SecureBytes.random(count: 32))
        other.update([1, 2, 3])

        let digest = first.finalizeSecret()
        let sameKeyDigest = second.finalize()
        let otherKeyDigest = other.finalize()
        #expect(digest.count == 32)
        #expect(digest.withUnsafeBytes { Array($0) } == sameKeyDigest)
        #expect(digest.withUnsafeBytes { Array($0) } != otherKeyDigest)
    }
}
