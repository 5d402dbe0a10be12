import Foundation
import Vault

/// One master key as `retract keys list` shows it: its id, its state, and how many live
/// values it still seals.
public struct KeyState: Sendable, Equatable {
    /// Where the key stands.
    public enum State: String, Sendable {
        /// The newest key: new shares and metadata are sealed under it.
        case active
        /// An older key still in the directory: it opens what it sealed until a rotation
        /// re-seals that; once it seals nothing, `retract keys retire` may destroy it.
        case old
        /// A key the vault still refers to but whose file is not in the directory: what it
        /// sealed cannot be opened until the file is restored.
        case missing
    }

    /// The key id.
    public let kid: String
    /// Its state.
    public let state: State
    /// The live values it seals.
    public let usage: KeyUsage

    /// When it was made, from its kid (nil for a kid in another form).
    public var createdAt: Date? { KeyDirectory.creationDate(ofKeyID: kid) }

    /// A key's row.
    public init(kid: String, state: State, usage: KeyUsage) {
        self.kid = kid
        self.state = state
        self.usage = usage
    }
}
