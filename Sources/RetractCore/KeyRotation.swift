/// What one run of `RetractService.rotateKeys()` did: under which key the vault's values
/// are now sealed, how many it re-sealed, and how many still wait under older keys.
public struct KeyRotation: Sendable, Equatable {
    /// The key id every value was re-sealed under (the active key).
    public var kid: String
    /// Whether this run made that key (false: it finished a rotation begun earlier).
    public var createdKey: Bool
    /// Values re-sealed under `kid`.
    public var resealed = 0
    /// Values changed by someone else between read and write (revoked, delivered), left
    /// as they were.
    public var changedMeanwhile = 0
    /// Values that did not open with their own key (its file is missing, or the bytes were
    /// altered); they keep their old key, which therefore cannot be retired.
    public var unreadable = 0
    /// Live values still sealed under another key than `kid` when the run ended.
    public var remaining = 0
    /// Whether the run stopped early because its caller asked it to (`shouldContinue`).
    public var interrupted = false

    /// A rotation to `kid` that has done nothing yet.
    public init(kid: String, createdKey: Bool) {
        self.kid = kid
        self.createdKey = createdKey
    }

    /// Whether every live value is now sealed under `kid`.
    public var isFinished: Bool { remaining == 0 }
}
