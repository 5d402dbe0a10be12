/// A grant found by its token hash, with the message it opens.
public struct GrantLookup: Sendable {
    /// The grant.
    public var grant: GrantRecord
    /// Its message.
    public var message: MessageRecord

    /// Pairs a grant with its message.
    public init(grant: GrantRecord, message: MessageRecord) {
        self.grant = grant
        self.message = message
    }
}
