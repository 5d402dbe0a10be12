/// What one claim of due mail took: the mails now `sending` for this pass, and how many due
/// mails it looked at.
///
/// `considered` can exceed `mails.count` when another pass claimed some of the same mails
/// first; a claim that considered a full batch means more may be due.
public struct OutboxClaim: Sendable {
    /// The mails claimed, oldest first.
    public let mails: [OutboxMailRecord]
    /// How many due mails the claim looked at.
    public let considered: Int

    /// A claim of `mails` out of `considered` due ones.
    public init(mails: [OutboxMailRecord], considered: Int) {
        self.mails = mails
        self.considered = considered
    }
}
