import Sodium
import Testing

@Suite("XChaCha20Poly1305")
struct XChaCha20Poly1305Tests {
    @Test("opens the known-answer vector of draft-irtf-cfrg-xchacha (A.3.1)")
    func knownAnswer() throws {
        let key = SecureBytes(copying: try Hex.decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
        let sealed = try Hex.decode(
            "404142434445464748494a4b4c4d4e4f5051525354555657"
                + "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
                + "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
                + "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
                + "21f9664c97637da9768812f615c68b13b52e"
                + "c0875924c1c7987947deafd8780acf49"
        )
        let plaintext = try XChaCha20Poly1305.open(sealed, key: key, additionalData: try Hex.decode("50515253c0c1c2c3c4c5c6c7"))
        #expect(
            String(decoding: plaintext, as: UTF8.self)
                == "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
        )
    }

    @Test("seal returns nonce, ciphertext and tag, and opens back")
    func roundTrip() throws {
        let key = SecureBytes.random(count: 32)
        let sealed = XChaCha20Poly1305.seal(Array("secret".utf8), key: key, additionalData: [1, 2])
        #expect(sealed.count == 24 + 6 + 16)
        #expect(try XChaCha20Poly1305.open(sealed, key: key, additionalData: [1, 2]) == Array("secret".utf8))
    }

    @Test("every seal uses a fresh nonce")
    func freshNonce() {
        let key = SecureBytes.random(count: 32)
        let first = XChaCha20Poly1305.seal([0], key: key)
        let second = XChaCha20Poly1305.seal([0], key: key)
        #expect(first.prefix(24) != second.prefix(24))
    }

    @Test("a secret seals and opens without leaving SecureBytes")
    func secretRoundTrip() throws {
        let key = SecureBytes.random(count: 32)
        let secret = SecureBytes.random(count: 32)
        let sealed = XChaCha20Poly1305.seal(secret, key: key, additionalData: [9])
        let opened = try XChaCha20Poly1305.openSecret(sealed, key: key, additionalData: [9])
        #expect(sealed.count == 72)
        #expect(constantTimeEquals(opened, secret))
    }

    @Test("an empty plaintext seals to 40 bytes and opens to nothing")
    func empty() throws {
        let key = SecureBytes.random(count: 32)
        let sealed = XChaCha20Poly1305.seal([], key: key)
        #expect(sealed.count == 40)
        #expect(try XChaCha20Poly1305.open(sealed, key: key).isEmpty)
    }

    @Test("wrong key, wrong additional data or any flipped byte fails to authenticate")
    func rejects() {
        let key = SecureBytes.random(count: 32)
        let sealed = XChaCha20Poly1305.seal(Array("secret".utf8), key: key, additionalData: [1])

        #expect(throws: SodiumError.authenticationFailed) {
            try XChaCha20Poly1305.open(sealed, key: SecureBytes.random(count: 32), additionalData: [1])
        }
        #expect(throws: SodiumError.authenticationFailed) {
            try XChaCha20Poly1305.open(sealed, key: key, additionalData: [2])
        }
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x80
            #expect(throws: SodiumError.authenticationFailed) {
                try XChaCha20Poly1305.openSecret(tampered, key: key, additionalData: [1])
            }
        }
    }

    @Test("input shorter than nonce and tag is refused as invalid length")
    func tooShort() {
        #expect(throws: SodiumError.invalidLength) {
            try XChaCha20Poly1305.open([UInt8](repeating: 0, count: 39), key: SecureBytes.random(count: 32))
        }
    }
}
