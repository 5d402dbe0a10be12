/// What the interstitial page of a link sent with `verify` tells the reader before any key
/// is given: where the code will go, partly masked, and whether a code is needed right now.
public struct VerificationPrompt: Sendable, Equatable {
    /// The grant's recipient with the local part masked (`b***@partner.test`), so the reader
    /// recognises the mailbox without the page revealing the full address to a link holder.
    public var maskedRecipient: String
    /// True while a correct code is remembered for the grant: the link opens without one.
    public var verified: Bool

    /// Creates a prompt.
    public init(maskedRecipient: String, verified: Bool) {
        self.maskedRecipient = maskedRecipient
        self.verified = verified
    }
}
