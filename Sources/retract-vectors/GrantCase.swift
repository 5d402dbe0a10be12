import Seal
import Sodium

/// Everything a grant vector holds, as objects: built, optionally tampered with, checked by
/// opening it exactly as a reader of the file would, then rendered as fields.
struct GrantCase {
    var master: MasterKey
    var messageID: MessageID
    var token: GrantToken
    var linkKey: LinkKey
    var sealedShare: [UInt8]
    var wrappedDataKey: [UInt8]
    var partIndex: UInt32
    var part: SealedPart

    /// A fresh grant for a message sealed under `dataKey`, holding `plaintext` as part `partIndex`.
    static func make(
        master: MasterKey,
        messageID: MessageID = .random(),
        dataKey: DataKey = .generate(),
        plaintext: [UInt8],
        partIndex: UInt32
    ) -> GrantCase {
        let secrets = GrantSecrets.generate()
        let tokenHash = secrets.token.hash
        let kek = GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: secrets.share)
        return GrantCase(
            master: master,
            messageID: messageID,
            token: secrets.token,
            linkKey: secrets.linkKey,
            sealedShare: GrantCrypto.sealShare(secrets.share, master: master, tokenHash: tokenHash),
            wrappedDataKey: GrantCrypto.wrapDataKey(dataKey, kek: kek, messageID: messageID, tokenHash: tokenHash),
            partIndex: partIndex,
            part: PartCrypto.seal(plaintext, dataKey: dataKey, messageID: messageID, partIndex: partIndex)
        )
    }

    /// Opens the part the way the vector tests do.
    func open() -> Result<[UInt8], SealError> {
        Result { () throws(SealError) in
            let dataKey = try GrantCrypto.openDataKey(
                sealedShare: sealedShare,
                wrappedDataKey: wrappedDataKey,
                master: master,
                token: token,
                linkKey: linkKey,
                messageID: messageID
            )
            return try PartCrypto.open(part, dataKey: dataKey, messageID: messageID, partIndex: partIndex)
        }
    }

    /// The key and part fields, in file order.
    var fields: [(name: String, value: String)] {
        let linkKeyBytes = (try? Base64URL.decode(linkKey.base64url)) ?? []
        var fields: [(name: String, value: String)] = [
            ("kid", master.kid),
            ("master_key", master.withUnsafeSecretBytes { Hex.encode($0) }),
            ("message_id", messageID.description),
            ("token", Hex.encode(token.bytes)),
            ("link_key", Hex.encode(linkKeyBytes)),
            ("sealed_share", Hex.encode(sealedShare)),
            ("wrapped_dek", Hex.encode(wrappedDataKey)),
            ("part_index", String(partIndex)),
            ("part_header", Hex.encode(part.header)),
            ("chunk_count", String(part.chunks.count)),
        ]
        for (index, chunk) in part.chunks.enumerated() {
            fields.append(("chunk_\(index)", Hex.encode(chunk)))
        }
        return fields
    }
}
