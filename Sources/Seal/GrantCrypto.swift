import Sodium

/// The key split of one grant: share sealing, KEK derivation and data-key wrapping
/// (docs/crypto.md, "Grants").
///
/// Opening needs all three holders: the vault row (sealed share, wrapped key), the master
/// key, and the link key.
public enum GrantCrypto {
    /// Seals a share under the master key, bound to `kid` and the grant's token hash:
    /// `nonce(24) ‖ XChaCha20-Poly1305(master, nonce, "retract/share/v1" ‖ kid ‖ token_hash, share)`,
    /// 72 bytes.
    public static func sealShare(_ share: ShareKey, master: MasterKey, tokenHash: TokenHash) -> [UInt8] {
        XChaCha20Poly1305.seal(
            share.secret,
            key: master.secret,
            additionalData: AdditionalData.share(kid: master.kid, tokenHash: tokenHash)
        )
    }

    /// Opens a sealed share; throws `invalidKey` for a wrong master key or a share moved to
    /// another grant, `invalidLength` unless it is 72 bytes.
    public static func openShare(_ sealed: [UInt8], master: MasterKey, tokenHash: TokenHash) throws(SealError) -> ShareKey {
        guard sealed.count == SealFormat.sealedKeySize else { throw .invalidLength }
        do {
            return ShareKey(
                validated: try XChaCha20Poly1305.openSecret(
                    sealed,
                    key: master.secret,
                    additionalData: AdditionalData.share(kid: master.kid, tokenHash: tokenHash)
                )
            )
        } catch {
            throw .invalidKey
        }
    }

    /// `KEK = BLAKE2b-256(key = link_key, "retract/kek/v1" ‖ token ‖ share)`.
    public static func deriveKEK(linkKey: LinkKey, token: GrantToken, share: ShareKey) -> KeyEncryptionKey {
        var hash = GenericHash(key: linkKey.secret, outputLength: 32)
        hash.update(AdditionalData.kek)
        hash.update(token.bytes)
        hash.update(share.secret)
        return KeyEncryptionKey(validated: hash.finalizeSecret())
    }

    /// Wraps the data key for one grant:
    /// `nonce(24) ‖ XChaCha20-Poly1305(KEK, nonce, "retract/wrap/v1" ‖ message_id ‖ token_hash, DEK)`,
    /// 72 bytes.
    public static func wrapDataKey(_ dek: DataKey, kek: KeyEncryptionKey, messageID: MessageID, tokenHash: TokenHash) -> [UInt8] {
        XChaCha20Poly1305.seal(
            dek.secret,
            key: kek.secret,
            additionalData: AdditionalData.wrap(messageID: messageID, tokenHash: tokenHash)
        )
    }

    /// Unwraps a data key; throws `invalidKey` when the KEK is wrong (wrong link key or share)
    /// or the value belongs to another message or grant, `invalidLength` unless it is 72 bytes.
    public static func unwrapDataKey(
        _ wrapped: [UInt8],
        kek: KeyEncryptionKey,
        messageID: MessageID,
        tokenHash: TokenHash
    ) throws(SealError) -> DataKey {
        guard wrapped.count == SealFormat.sealedKeySize else { throw .invalidLength }
        do {
            return DataKey(
                validated: try XChaCha20Poly1305.openSecret(
                    wrapped,
                    key: kek.secret,
                    additionalData: AdditionalData.wrap(messageID: messageID, tokenHash: tokenHash)
                )
            )
        } catch {
            throw .invalidKey
        }
    }

    /// Opens a grant in one step: share, KEK, data key. Every failure is `invalidKey` or
    /// `invalidLength`, whichever secret was wrong.
    public static func openDataKey(
        sealedShare: [UInt8],
        wrappedDataKey: [UInt8],
        master: MasterKey,
        token: GrantToken,
        linkKey: LinkKey,
        messageID: MessageID
    ) throws(SealError) -> DataKey {
        try openDataKey(
            sealedShare: sealedShare,
            wrappedDataKey: wrappedDataKey,
            master: master,
            token: token,
            tokenHash: token.hash,
            linkKey: linkKey,
            messageID: messageID
        )
    }

    /// The same steps with the token hash given separately, so `DecoyGrant` can run them
    /// against its own grant while deriving from the presented token.
    static func openDataKey(
        sealedShare: [UInt8],
        wrappedDataKey: [UInt8],
        master: MasterKey,
        token: GrantToken,
        tokenHash: TokenHash,
        linkKey: LinkKey,
        messageID: MessageID
    ) throws(SealError) -> DataKey {
        let share = try openShare(sealedShare, master: master, tokenHash: tokenHash)
        let kek = deriveKEK(linkKey: linkKey, token: token, share: share)
        return try unwrapDataKey(wrappedDataKey, kek: kek, messageID: messageID, tokenHash: tokenHash)
    }

    /// Seals small metadata the vault must read back without a link (a notification subject,
    /// mail waiting in the outbox): `nonce(24) ‖ XChaCha20-Poly1305(master, nonce,
    /// "retract/meta/v1" ‖ kid ‖ context, plaintext)`.
    ///
    /// `context` must name the row and purpose (e.g. `"outbox/" ‖ id`) so values cannot be
    /// swapped between rows.
    public static func sealMetadata(_ plaintext: [UInt8], master: MasterKey, context: [UInt8]) -> [UInt8] {
        XChaCha20Poly1305.seal(
            plaintext,
            key: master.secret,
            additionalData: AdditionalData.metadata(kid: master.kid, context: context)
        )
    }

    /// Opens metadata; throws `integrity` for a wrong master key or context or altered bytes.
    public static func openMetadata(_ sealed: [UInt8], master: MasterKey, context: [UInt8]) throws(SealError) -> [UInt8] {
        do {
            return try XChaCha20Poly1305.open(
                sealed,
                key: master.secret,
                additionalData: AdditionalData.metadata(kid: master.kid, context: context)
            )
        } catch {
            throw .integrity
        }
    }
}
