import Seal

/// The master keys loaded from the key directory, by key id.
public struct KeyRing: Sendable {
    /// The key new shares and metadata are sealed under.
    public let active: MasterKey
    private let byID: [String: MasterKey]

    /// A ring whose active key is the one with the greatest kid (the newest).
    public init(keys: [MasterKey]) {
        precondition(!keys.isEmpty, "a key ring holds at least one key")
        var byID: [String: MasterKey] = [:]
        for key in keys { byID[key.kid] = key }
        self.byID = byID
        self.active = keys.max { $0.kid < $1.kid }!
    }

    /// The key with this id.
    public func key(_ kid: String) throws(VaultError) -> MasterKey {
        guard let key = byID[kid] else { throw VaultError.unknownKeyID(kid) }
        return key
    }
}
