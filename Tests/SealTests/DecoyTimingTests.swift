import Foundation
import Seal
import Testing

/// An unknown token answered through `DecoyGrant` must cost the same as a wrong link key.
/// Timing-sensitive, so it runs only in optimized builds with `RETRACT_BENCH=1`
/// (`RETRACT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter Timing`).
@Suite("Decoy timing", .enabled(if: BenchmarkGate.isEnabled), .serialized)
struct DecoyTimingTests {
    @Test("an unknown token through the decoy takes as long as a wrong link key")
    func sameCost() throws {
        let master = MasterKey.generate(kid: "timing")
        let decoy = DecoyGrant(master: master)
        let secrets = GrantSecrets.generate()
        let messageID = MessageID.random()
        let tokenHash = secrets.token.hash
        let kek = GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: secrets.share)
        let sealedShare = GrantCrypto.sealShare(secrets.share, master: master, tokenHash: tokenHash)
        let wrapped = GrantCrypto.wrapDataKey(.generate(), kek: kek, messageID: messageID, tokenHash: tokenHash)
        let wrongKey = LinkKey.generate()
        let unknownToken = GrantToken.random()

        var wrongKeyTimes: [Double] = []
        var decoyTimes: [Double] = []
        for _ in 0..<101 {
            wrongKeyTimes.append(measure {
                _ = try? GrantCrypto.openDataKey(
                    sealedShare: sealedShare, wrappedDataKey: wrapped, master: master,
                    token: secrets.token, linkKey: wrongKey, messageID: messageID)
            })
            decoyTimes.append(measure {
                _ = try? decoy.open(token: unknownToken, linkKey: wrongKey)
            })
        }
        // The fastest round is the one least disturbed by other processes on the machine.
        let ratio = try #require(decoyTimes.min()) / #require(wrongKeyTimes.min())
        print("decoy / wrong key time ratio: \(String(format: "%.3f", ratio))")
        #expect((0.8...1.25).contains(ratio))
    }

    private func measure(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        for _ in 0..<200 {
            body()
        }
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
