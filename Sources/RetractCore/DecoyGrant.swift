import Seal
import Sodium

/// Key material for a grant that does not exist.
///
/// When a token matches no grant, the open path runs the full unseal–derive–unwrap sequence
/// against this decoy and fails exactly as a wrong link key fails: same answer, same work.
struct DecoyGrant: Sendable {
    let messageID = MessageID.random()
    let token = GrantToken.random()
    let sealedShare: [UInt8]
    let wrappedDataKey: [UInt8]

    init(master: MasterKey) {
        sealedShare = GrantCrypto.sealShare(ShareKey.generate(), master: master, tokenHash: token.hash)
        wrappedDataKey = Random.bytes(72)
    }
}
