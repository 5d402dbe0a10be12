import Seal
import Sodium
import Testing

@Suite("Grant key split")
struct GrantCryptoTests {
    let master = MasterKey.generate(kid: "test-1")
    let messageID = MessageID.random()

    /// A grant as the vault would hold it, plus the link's secrets.
    struct Grant {
        let secrets: GrantSecrets
        let sealedShare: [UInt8]
        let wrappedDEK: [UInt8]
    }

    func makeGrant(dataKey: DataKey, master: MasterKey? = nil) -> Grant {
        let secrets = GrantSecrets.generate()
        let kek = GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: secrets.share)
        return Grant(
            secrets: secrets,
            sealedShare: GrantCrypto.sealShare(secrets.share, master: master ?? self.master, tokenHash: secrets.token.hash),
            wrappedDEK: GrantCrypto.wrapDataKey(dataKey, kek: kek, messageID: messageID, tokenHash: secrets.token.hash)
        )
    }

    func open(_ grant: Grant, master: MasterKey? = nil, linkKey: LinkKey? = nil, token: GrantToken? = nil) throws(SealError) -> DataKey {
        try GrantCrypto.openDataKey(
            sealedShare: grant.sealedShare,
            wrappedDataKey: grant.wrappedDEK,
            master: master ?? self.master,
            token: token ?? grant.secrets.token,
            linkKey: linkKey ?? grant.secrets.linkKey,
            messageID: messageID
        )
    }

    @Test("sealed share and wrapped data key are 72 bytes each and open the message")
    func fullRoundTrip() throws {
        let dataKey = DataKey.generate()
        let part = PartCrypto.seal(Array("body".utf8), dataKey: dataKey, messageID: messageID, partIndex: 0)
        let grant = makeGrant(dataKey: dataKey)
        #expect(grant.sealedShare.count == 72)
        #expect(grant.wrappedDEK.count == 72)

        let opened = try open(grant)
        #expect(try PartCrypto.open(part, dataKey: opened, messageID: messageID, partIndex: 0) == Array("body".utf8))
    }

    @Test("every recipient's grant opens the same data key")
    func manyGrants() throws {
        let dataKey = DataKey.generate()
        let part = PartCrypto.seal([42], dataKey: dataKey, messageID: messageID, partIndex: 1)
        for _ in 0..<3 {
            let opened = try open(makeGrant(dataKey: dataKey))
            #expect(try PartCrypto.open(part, dataKey: opened, messageID: messageID, partIndex: 1) == [42])
        }
    }

    @Test("a share cannot move to another grant's token hash")
    func shareCannotMove() throws {
        let share = ShareKey.generate()
        let first = GrantToken.random()
        let sealed = GrantCrypto.sealShare(share, master: master, tokenHash: first.hash)
        _ = try GrantCrypto.openShare(sealed, master: master, tokenHash: first.hash)
        #expect(throws: SealError.invalidKey) { try GrantCrypto.openShare(sealed, master: master, tokenHash: GrantToken.random().hash) }

        let dataKey = DataKey.generate()
        let a = makeGrant(dataKey: dataKey)
        let b = makeGrant(dataKey: dataKey)
        let moved = Grant(secrets: b.secrets, sealedShare: a.sealedShare, wrappedDEK: b.wrappedDEK)
        #expect(throws: SealError.invalidKey) { try open(moved) }
    }

    @Test("the wrong master key, or the right bytes under another kid, is an invalid key")
    func wrongMaster() throws {
        let grant = makeGrant(dataKey: .generate())
        #expect(throws: SealError.invalidKey) { try open(grant, master: MasterKey.generate(kid: "test-1")) }
        let sameBytesOtherKID = try master.withUnsafeSecretBytes { bytes in
            try MasterKey(kid: "test-2", secret: SecureBytes(copying: bytes))
        }
        #expect(throws: SealError.invalidKey) { try open(grant, master: sameBytesOtherKID) }
    }

    @Test("the wrong link key or another token is an invalid key")
    func wrongLinkKey() throws {
        let grant = makeGrant(dataKey: .generate())
        #expect(throws: SealError.invalidKey) { try open(grant, linkKey: .generate()) }
        #expect(throws: SealError.invalidKey) { try open(grant, token: .random()) }
    }

    @Test("a wrapped data key is bound to its message and grant")
    func wrapBinding() throws {
        let dataKey = DataKey.generate()
        let grant = makeGrant(dataKey: dataKey)
        let share = try GrantCrypto.openShare(grant.sealedShare, master: master, tokenHash: grant.secrets.token.hash)
        let kek = GrantCrypto.deriveKEK(linkKey: grant.secrets.linkKey, token: grant.secrets.token, share: share)
        _ = try GrantCrypto.unwrapDataKey(grant.wrappedDEK, kek: kek, messageID: messageID, tokenHash: grant.secrets.token.hash)
        #expect(throws: SealError.invalidKey) {
            try GrantCrypto.unwrapDataKey(grant.wrappedDEK, kek: kek, messageID: .random(), tokenHash: grant.secrets.token.hash)
        }
        #expect(throws: SealError.invalidKey) {
            try GrantCrypto.unwrapDataKey(grant.wrappedDEK, kek: kek, messageID: messageID, tokenHash: GrantToken.random().hash)
        }
    }

    @Test("flipping any byte of the sealed share or wrapped key is an invalid key")
    func flippedKeyBytes() throws {
        let grant = makeGrant(dataKey: .generate())
        for index in 0..<72 {
            var share = grant.sealedShare
            share[index] ^= 0x01
            #expect(throws: SealError.invalidKey) { try open(Grant(secrets: grant.secrets, sealedShare: share, wrappedDEK: grant.wrappedDEK)) }
            var wrapped = grant.wrappedDEK
            wrapped[index] ^= 0x01
            #expect(throws: SealError.invalidKey) { try open(Grant(secrets: grant.secrets, sealedShare: grant.sealedShare, wrappedDEK: wrapped)) }
        }
    }

    @Test("a sealed share or wrapped key of the wrong size is an invalid length")
    func lengths() throws {
        let grant = makeGrant(dataKey: .generate())
        #expect(throws: SealError.invalidLength) { try open(Grant(secrets: grant.secrets, sealedShare: Array(grant.sealedShare.dropLast()), wrappedDEK: grant.wrappedDEK)) }
        #expect(throws: SealError.invalidLength) { try open(Grant(secrets: grant.secrets, sealedShare: grant.sealedShare, wrappedDEK: grant.wrappedDEK + [0])) }
    }

    @Test("the KEK is deterministic and depends on link key, token and share")
    func kekDerivation() throws {
        let secrets = GrantSecrets.generate()
        let kek = GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: secrets.share)
        let again = GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: secrets.share)
        let dataKey = DataKey.generate()
        let wrapped = GrantCrypto.wrapDataKey(dataKey, kek: kek, messageID: messageID, tokenHash: secrets.token.hash)
        _ = try GrantCrypto.unwrapDataKey(wrapped, kek: again, messageID: messageID, tokenHash: secrets.token.hash)

        for other in [
            GrantCrypto.deriveKEK(linkKey: .generate(), token: secrets.token, share: secrets.share),
            GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: .random(), share: secrets.share),
            GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: .generate()),
        ] {
            #expect(throws: SealError.invalidKey) {
                try GrantCrypto.unwrapDataKey(wrapped, kek: other, messageID: messageID, tokenHash: secrets.token.hash)
            }
        }
    }

    @Test("the KEK is BLAKE2b-256 keyed by the link key over the documented input")
    func kekMatchesSpecification() throws {
        let linkKeyBytes = SecureBytes.random(count: 32)
        let shareBytes = SecureBytes.random(count: 32)
        let token = GrantToken.random()
        var hash = GenericHash(key: linkKeyBytes)
        hash.update(Array("retract/kek/v1".utf8))
        hash.update(token.bytes)
        hash.update(shareBytes)
        let expected = hash.finalizeSecret()

        let kek = GrantCrypto.deriveKEK(linkKey: try LinkKey(secret: linkKeyBytes), token: token, share: try ShareKey(secret: shareBytes))
        let dataKeyBytes = SecureBytes.random(count: 32)
        let wrapped = GrantCrypto.wrapDataKey(try DataKey(secret: dataKeyBytes), kek: kek, messageID: messageID, tokenHash: token.hash)
        let ad = Array("retract/wrap/v1".utf8) + messageID.bytes + token.hash.bytes
        let unwrapped = try XChaCha20Poly1305.openSecret(wrapped, key: expected, additionalData: ad)
        #expect(constantTimeEquals(unwrapped, dataKeyBytes))
    }

    @Test("the share is sealed under the master key with the documented additional data")
    func shareMatchesSpecification() throws {
        let shareBytes = SecureBytes.random(count: 32)
        let token = GrantToken.random()
        let sealed = GrantCrypto.sealShare(try ShareKey(secret: shareBytes), master: master, tokenHash: token.hash)
        let masterBytes = master.withUnsafeSecretBytes { SecureBytes(copying: $0) }
        let ad = Array("retract/share/v1".utf8) + Array("test-1".utf8) + token.hash.bytes
        #expect(constantTimeEquals(try XChaCha20Poly1305.openSecret(sealed, key: masterBytes, additionalData: ad), shareBytes))
    }

    @Test("metadata opens only under the same master key and context")
    func metadata() throws {
        let sealed = GrantCrypto.sealMetadata(Array("Subject: hi".utf8), master: master, context: Array("outbox/1".utf8))
        #expect(try GrantCrypto.openMetadata(sealed, master: master, context: Array("outbox/1".utf8)) == Array("Subject: hi".utf8))
        #expect(throws: SealError.integrity) { try GrantCrypto.openMetadata(sealed, master: master, context: Array("outbox/2".utf8)) }
        #expect(throws: SealError.integrity) { try GrantCrypto.openMetadata(sealed, master: .generate(kid: "test-1"), context: Array("outbox/1".utf8)) }
        #expect(throws: SealError.integrity) { try GrantCrypto.openMetadata(Array(sealed.prefix(39)), master: master, context: Array("outbox/1".utf8)) }

        let masterBytes = master.withUnsafeSecretBytes { SecureBytes(copying: $0) }
        let ad = Array("retract/meta/v1".utf8) + Array("test-1".utf8) + Array("outbox/1".utf8)
        #expect(try XChaCha20Poly1305.open(sealed, key: masterBytes, additionalData: ad) == Array("Subject: hi".utf8))
    }

    @Test("an unknown token opened against the decoy fails like a wrong link key")
    func decoy() {
        let decoy = DecoyGrant(master: master)
        let grant = makeGrant(dataKey: .generate())
        #expect(throws: SealError.invalidKey) { try decoy.open(token: .random(), linkKey: .generate()) }
        #expect(throws: SealError.invalidKey) { try decoy.open(token: grant.secrets.token, linkKey: grant.secrets.linkKey) }
        #expect(throws: SealError.invalidKey) { try open(grant, linkKey: .generate()) }
    }
}
