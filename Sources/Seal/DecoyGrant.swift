/// A grant that exists only to fail, so an unknown token costs the same work and gets the
/// same answer as a known token with a wrong link key.
///
/// Make one at startup under the active master key; when a token hash is not found, call
/// `open(token:linkKey:)` instead of answering at once. It opens its own share, derives a
/// KEK from the presented token and link key, fails to unwrap, and throws `invalidKey`.
public struct DecoyGrant: Sendable {
    private let master: MasterKey
    private let tokenHash: TokenHash
    private let messageID: MessageID
    private let sealedShare: [UInt8]
    private let wrappedDataKey: [UInt8]

    /// Makes a decoy under `master` with random token, share and data key.
    public init(master: MasterKey) {
        let secrets = GrantSecrets.generate()
        let tokenHash = secrets.token.hash
        let messageID = MessageID.random()
        let kek = GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: secrets.share)
        self.master = master
        self.tokenHash = tokenHash
        self.messageID = messageID
        sealedShare = GrantCrypto.sealShare(secrets.share, master: master, tokenHash: tokenHash)
        wrappedDataKey = GrantCrypto.wrapDataKey(.generate(), kek: kek, messageID: messageID, tokenHash: tokenHash)
    }

    /// Does the work of opening a grant with the presented token and link key, then throws
    /// `invalidKey`. It never returns.
    public func open(token: GrantToken, linkKey: LinkKey) throws(SealError) -> Never {
        // The real path hashes the presented token too; match its work.
        _ = token.hash
        _ = try GrantCrypto.openDataKey(
            sealedShare: sealedShare,
            wrappedDataKey: wrappedDataKey,
            master: master,
            token: token,
            tokenHash: tokenHash,
            linkKey: linkKey,
            messageID: messageID
        )
        // Only a link key guessed among 2^256 could get here.
        throw .invalidKey
    }
}
