import Seal
import Synchronization

/// The master keys loaded from the key directory, by key id, and the one that is active.
///
/// A ring loaded from a `KeyDirectory` follows that folder: when a key file is added
/// (`retract keys rotate` in another process) or removed (`retract keys retire`), the next
/// use of `active` or `decoy`, or a look-up of a kid it does not hold, reloads it. So a
/// running `retract serve` seals under a new key as soon as it exists, opens what was
/// re-wrapped under it, and lets go of a retired key (whose bytes are zeroed when the last
/// reference to them goes: `SecureBytes`). Noticing costs one `stat` of the folder.
public final class KeyRing: Sendable {
    private struct Snapshot: Sendable {
        let byID: [String: MasterKey]
        let active: MasterKey
        let decoy: DecoyGrant
        let stamp: KeyDirectory.Stamp?

        init(keys: [MasterKey], stamp: KeyDirectory.Stamp?) {
            precondition(!keys.isEmpty, "a key ring holds at least one key")
            var byID: [String: MasterKey] = [:]
            for key in keys { byID[key.kid] = key }
            self.byID = byID
            self.active = keys.max { $0.kid < $1.kid }!
            self.decoy = DecoyGrant(master: active)
            self.stamp = stamp
        }
    }

    private let directory: KeyDirectory?
    private let snapshot: Mutex<Snapshot>

    /// A fixed ring (it never reloads) whose active key is the one with the greatest kid.
    public convenience init(keys: [MasterKey]) {
        self.init(keys: keys, directory: nil, stamp: nil)
    }

    init(keys: [MasterKey], directory: KeyDirectory?, stamp: KeyDirectory.Stamp?) {
        self.directory = directory
        self.snapshot = Mutex(Snapshot(keys: keys, stamp: stamp))
    }

    /// The key new shares and metadata are sealed under: the newest (greatest kid).
    public var active: MasterKey { current().active }

    /// A grant under the active key that exists only to fail (docs/crypto.md,
    /// "Constant-time rule"); made again when the active key changes, so it never keeps
    /// a retired key alive.
    public var decoy: DecoyGrant { current().decoy }

    /// The ids of the keys held, ascending (the last is the active one).
    public var keyIDs: [String] { current().byID.keys.sorted() }

    /// The key with this id; a kid the ring does not hold makes it read the folder again
    /// first (another process may just have created it).
    public func key(_ kid: String) throws(VaultError) -> MasterKey {
        if let key = current().byID[kid] { return key }
        try? reload()
        guard let key = snapshot.withLock({ $0.byID[kid] }) else { throw VaultError.unknownKeyID(kid) }
        return key
    }

    /// Reads the key directory again now; a fixed ring does nothing. Throws what loading
    /// throws (and keeps the keys it had).
    public func reload() throws {
        guard let directory else { return }
        let stamp = directory.stamp()
        let fresh = Snapshot(keys: try directory.loadKeys(), stamp: stamp)
        snapshot.withLock { $0 = fresh }
    }

    /// The snapshot, reloaded first when the folder changed. A reload that fails (a key
    /// file being written by hand, say) keeps the keys held and is tried again next time.
    private func current() -> Snapshot {
        let held = snapshot.withLock { $0 }
        guard let directory, let stamp = directory.stamp(), stamp != held.stamp else { return held }
        do {
            try reload()
        } catch {
            return held
        }
        return snapshot.withLock { $0 }
    }
}
