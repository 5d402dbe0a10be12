import Foundation
import Seal
import Vault

/// Master-key rotation (docs/crypto.md, "Key rotation"): a new active key, every live value
/// re-sealed under it in short batches while the service runs, and old keys destroyed once
/// nothing live needs them.
///
/// The crypto is here and the storage behind the vault's three intention-named operations
/// (`keyUsage()`, `sealedValues(_:notUnder:after:limit:)`, `replaceSealedValues(_:)`), so
/// another backend runs the same logic.
extension RetractService {
    /// Values re-sealed per write transaction: short enough that an open, a send or a
    /// revoke waiting for the write lock waits a few milliseconds at most.
    public static let keyRotationBatchSize = 500

    /// How long scheduled maintenance waits after a key stopped being the active one before
    /// it retires it: a send that took the old key as active just before the new one
    /// appeared (a large upload, say) has committed by then, and the next rotation turn has
    /// re-sealed it.
    public static let keyRetireGrace: TimeInterval = 15 * 60

    private var keyDirectory: KeyDirectory { KeyDirectory(url: configuration.keysDirectory) }

    /// Every key in the directory and every key the vault still refers to, with its state
    /// and the live values it seals, by kid.
    public func keyStates() throws -> [KeyState] {
        let present = try keyDirectory.keyIDs()
        let usage = Dictionary(try vault.keyUsage().map { ($0.kid, $0) }, uniquingKeysWith: { first, _ in first })
        var states = present.map { kid in
            KeyState(kid: kid, state: kid == present.last ? .active : .old, usage: usage[kid] ?? KeyUsage(kid: kid))
        }
        let presentSet = Set(present)
        for (kid, used) in usage where !presentSet.contains(kid) && used.total > 0 {
            states.append(KeyState(kid: kid, state: .missing, usage: used))
        }
        return states.sorted { $0.kid < $1.kid }
    }

    /// Throws `keysMissing` naming every key the vault refers to in a live value but the
    /// key directory lacks: `retract serve` refuses to start rather than answer those
    /// links "damaged" one by one (a key directory that differs between nodes, issue 14).
    public func checkKeysCoverVault() throws {
        let present = Set(keys.keyIDs)
        let missing = try vault.keyUsage().filter { $0.total > 0 && !present.contains($0.kid) }.map(\.kid)
        guard missing.isEmpty else {
            throw VaultError.keysMissing(missing, directory: configuration.keysDirectory.path)
        }
    }

    /// Makes a new active key, unless a rotation is unfinished (live values under a key
    /// other than the active one), and re-seals every live value under the active key, in
    /// batches of `batchSize`, each in its own short write transaction.
    ///
    /// Safe while `retract serve` runs: every running process's key ring notices the new
    /// key file and seals under it, opens what was re-sealed under it, and still holds the
    /// old key for what was not yet. A row revoked or delivered between read and write is
    /// left alone (the write checks the row still holds what was read). Idempotent and
    /// resumable: an interrupted run leaves values under the old and the new key, both of
    /// which open, and the next run finishes under the same new key. `shouldContinue` is
    /// asked after every batch (false stops the run, as an interruption would).
    public func rotateKeys(
        batchSize: Int = keyRotationBatchSize, shouldContinue: (KeyRotation) -> Bool = { _ in true }
    ) async throws -> KeyRotation {
        let directory = keyDirectory
        var ring = try directory.load()
        let unfinished = try vault.keyUsage().contains { $0.kid != ring.active.kid && $0.total > 0 }
        if !unfinished {
            try directory.createKey(now: now())
            ring = try directory.load()
        }
        try? keys.reload()
        let target = ring.active
        var rotation = KeyRotation(kid: target.kid, createdKey: !unfinished)
        logger.info(
            unfinished ? "key rotation resumed" : "key rotation started", metadata: ["kid": "\(target.kid)"])
        // A value sealed by a process that still took the old key as active while this pass
        // ran lands behind the cursor; a further pass re-seals it.
        for _ in 0..<3 {
            var progressed = false
            rotation.unreadable = 0
            for kind in SealedValue.Kind.allCases {
                var cursor: String?
                while true {
                    let batch = try vault.sealedValues(
                        kind, notUnder: target.kid, after: cursor, limit: max(1, batchSize))
                    guard let last = batch.last else { break }
                    cursor = last.rowID
                    var replacements: [SealedValue.Replacement] = []
                    replacements.reserveCapacity(batch.count)
                    for value in batch {
                        do {
                            replacements.append(try reseal(value, under: target, ring: ring))
                        } catch {
                            rotation.unreadable += 1
                        }
                    }
                    let written = try vault.replaceSealedValues(replacements)
                    rotation.resealed += written
                    rotation.changedMeanwhile += replacements.count - written
                    progressed = progressed || written > 0
                    guard shouldContinue(rotation) else {
                        rotation.interrupted = true
                        rotation.remaining = try remainingValues(notUnder: target.kid)
                        return rotation
                    }
                    await Task.yield()
                }
            }
            rotation.remaining = try remainingValues(notUnder: target.kid)
            if rotation.remaining == 0 || !progressed { break }
        }
        // The WAL still holds the pages with the old sealed values; the checkpoint moves them
        // into the database file, whose secure_delete overwrote the old bytes there.
        do {
            try vault.checkpointTruncating()
        } catch {
            logger.warning("could not truncate the vault's WAL after key rotation", metadata: ["error": "\(error)"])
        }
        logger.info(
            "key rotation done",
            metadata: [
                "kid": "\(target.kid)", "resealed": "\(rotation.resealed)", "remaining": "\(rotation.remaining)",
                "unreadable": "\(rotation.unreadable)",
            ])
        return rotation
    }

    /// Destroys the key file of `kid` (renamed away, overwritten, unlinked) and lets this
    /// process's key ring drop the key, whose bytes are zeroed when released.
    ///
    /// Refused (`keyStillNeeded`) for the active key and for a key that still seals any live
    /// value: run `rotateKeys()` first. What the key sealed and the vault no longer needs
    /// (revoked shares in a backup, in SQLite's free pages or WAL, in PostgreSQL's dead
    /// tuples) can never be opened again.
    public func retireKey(_ kid: String) throws {
        let directory = keyDirectory
        let present = try directory.keyIDs()
        guard present.contains(kid) else {
            throw RetractError(
                .keys, "no master key \(kid) in \(configuration.keysDirectory.path); `retract keys list` shows the keys"
            )
        }
        guard kid != present.last else { throw VaultError.keyStillNeeded(kid, active: true, values: 0) }
        let usage = { try vault.keyUsage().first { $0.kid == kid }?.total ?? 0 }
        let used = try usage()
        guard used == 0 else { throw VaultError.keyStillNeeded(kid, active: false, values: used) }
        // Counted again once the file is out of the listing: a value sealed under the key by
        // a process that took it as active a moment ago puts the file back.
        try directory.destroyKey(kid, stillNeeded: usage)
        try? keys.reload()
        logger.info("master key retired", metadata: ["kid": "\(kid)"])
    }

    /// One turn of `RETRACT_KEY_ROTATION`: rotates when the active key is older than
    /// `interval` (by its kid) or a rotation is unfinished, then retires every old key that
    /// seals nothing and was superseded at least `keyRetireGrace` (or `interval`, if
    /// shorter) ago. Failures are logged, never thrown: the next turn tries again.
    public func runKeyMaintenance(every interval: TimeInterval) async -> KeyMaintenance {
        var turn = KeyMaintenance()
        do {
            let present = try keyDirectory.keyIDs()
            guard let active = present.last else { return turn }
            let usage = try vault.keyUsage()
            let unfinished = usage.contains { $0.kid != active && $0.total > 0 }
            let age = KeyDirectory.creationDate(ofKeyID: active).map { now().timeIntervalSince($0) } ?? .infinity
            if unfinished || age >= interval {
                turn.rotation = try await rotateKeys()
            }
            let grace = min(Self.keyRetireGrace, interval)
            let after = try keyDirectory.keyIDs()
            let used = Dictionary(try vault.keyUsage().map { ($0.kid, $0.total) }, uniquingKeysWith: +)
            for (index, kid) in after.enumerated().dropLast() where (used[kid] ?? 0) == 0 {
                let successor = after[index + 1]
                let superseded =
                    KeyDirectory.creationDate(ofKeyID: successor).map { now().timeIntervalSince($0) } ?? .infinity
                guard superseded >= grace else { continue }
                try retireKey(kid)
                turn.retired.append(kid)
            }
        } catch {
            logger.error("scheduled key rotation failed", metadata: ["error": "\(error)"])
        }
        return turn
    }

    /// Live values sealed under any key but `kid`.
    private func remainingValues(notUnder kid: String) throws -> Int {
        try vault.keyUsage().filter { $0.kid != kid }.reduce(0) { $0 + $1.total }
    }

    /// `value` opened with its own key and sealed again under `target`; throws when it does
    /// not open (`unknownKeyID` for a missing key, `invalidKey` / `integrity` for altered
    /// bytes). Plaintext metadata is wiped after use.
    private func reseal(_ value: SealedValue, under target: MasterKey, ring: KeyRing) throws -> SealedValue.Replacement
    {
        let old = try ring.key(value.kid)
        let sealed: [UInt8]
        switch value.kind {
        case .share:
            let tokenHash = try TokenHash(bytes: [UInt8](value.tokenHash ?? Data()))
            let share = try GrantCrypto.openShare([UInt8](value.sealed), master: old, tokenHash: tokenHash)
            sealed = GrantCrypto.sealShare(share, master: target, tokenHash: tokenHash)
        case .subject, .outboxData:
            let context = value.kind == .subject ? Self.subjectContext(value.rowID) : Self.outboxContext(value.rowID)
            var plaintext = try GrantCrypto.openMetadata([UInt8](value.sealed), master: old, context: context)
            sealed = GrantCrypto.sealMetadata(plaintext, master: target, context: context)
            for index in plaintext.indices { plaintext[index] = 0 }
        }
        return SealedValue.Replacement(original: value, kid: target.kid, sealed: Data(sealed))
    }
}
