/// A grant found by its token hash, with the message it opens.
public struct GrantLookup: Sendable {
    /// The grant.
    public var grant: GrantRecord
    /// Its message.
    public var message: MessageRecord
}
