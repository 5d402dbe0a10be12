import Foundation
import Mail
import RetractTestSupport
import Seal
import Sodium
import Synchronization
import Testing

@testable import RetractCore
@testable import Vault

@Suite("Master-key rotation")
struct KeyRotationTests {
    struct Sent {
        let bench: TestBench
        let receipts: [SendReceipt]
        var links: [Link] {
            get throws { try receipts.flatMap(\.recipients).map { try Link.parse($0.link) } }
        }
        func link(_ address: String) throws -> Link {
            try Link.parse(try #require(receipts.flatMap(\.recipients).first { $0.address == address }).link)
        }
    }

    /// Two messages to three recipients each, their notifications held in the outbox for
    /// the 10-minute undo window (`deliver()` moves the clock past it).
    func sendTwo(recipients: Int = 3) async throws -> Sent {
        let bench = try TestBench()
        var receipts: [SendReceipt] = []
        for message in 0..<2 {
            receipts.append(
                try await bench.service.send(
                    Draft(
                        from: "Alice <alice@corp.test>", to: (0..<recipients).map { "r\(message)-\($0)@partner.test" },
                        subject: "Price list \(message)", body: "Price: 100", delay: 600)))
        }
        return Sent(bench: bench, receipts: receipts)
    }

    func openAll(_ sent: Sent) async throws {
        for link in try sent.links {
            let opened = try await sent.bench.service.open(token: link.token, linkKey: link.linkKey)
            #expect(opened.envelope.bodyText == "Price: 100")
        }
    }

    func deliver(_ sent: Sent) async -> DeliveryRun {
        sent.bench.clock.advance(601)
        return await sent.bench.service.deliverDueMail()
    }

    func keyFile(_ bench: TestBench, _ kid: String) -> String {
        bench.configuration.keysDirectory.appendingPathComponent("master-\(kid).key").path
    }

    @Test("rotate makes a new active key and re-seals every share, subject and outbox mail under it")
    func rotateResealsAll() async throws {
        let sent = try await sendTwo()
        let service = sent.bench.service
        let old = service.keys.active.kid
        #expect(try service.vault.keyUsage() == [KeyUsage(kid: old, shares: 6, subjects: 2, outboxData: 6)])

        let rotation = try await service.rotateKeys()
        #expect(rotation.createdKey)
        #expect(rotation.kid > old)
        #expect(rotation.resealed == 14)
        #expect(rotation.isFinished && rotation.unreadable == 0 && !rotation.interrupted)
        #expect(service.keys.active.kid == rotation.kid)
        #expect(try service.vault.keyUsage() == [KeyUsage(kid: rotation.kid, shares: 6, subjects: 2, outboxData: 6)])

        try await openAll(sent)
        #expect(try service.status(messageID: sent.receipts[0].messageID).subject == "Price list 0")
        let run = await deliver(sent)
        #expect(run.delivered == 6 && run.failed == 0)
    }

    @Test("keys list shows the active key, the old one, and how many live values each still seals")
    func listCounts() async throws {
        let sent = try await sendTwo()
        let service = sent.bench.service
        let old = service.keys.active.kid
        #expect(
            try service.keyStates() == [
                KeyState(kid: old, state: .active, usage: KeyUsage(kid: old, shares: 6, subjects: 2, outboxData: 6))
            ])

        var stopped = try await service.rotateKeys(batchSize: 4) { _ in false }
        #expect(stopped.interrupted && stopped.resealed == 4 && stopped.remaining == 10)
        let states = try service.keyStates()
        #expect(states.map(\.state) == [.old, .active])
        #expect(states[0].usage == KeyUsage(kid: old, shares: 2, subjects: 2, outboxData: 6))
        #expect(states[1].usage == KeyUsage(kid: stopped.kid, shares: 4))

        _ = await deliver(sent)
        stopped = try await service.rotateKeys()
        #expect(
            try service.keyStates().map(\.usage) == [
                KeyUsage(kid: old), KeyUsage(kid: stopped.kid, shares: 6, subjects: 2),
            ])
    }

    @Test("retire is refused for the active key and for a key still sealing something, with what to run")
    func retireRefused() async throws {
        let sent = try await sendTwo()
        let service = sent.bench.service
        let old = service.keys.active.kid
        let active = await #expect(throws: VaultError.self) { try service.retireKey(old) }
        #expect(active?.description.contains("is the active key") == true)
        #expect(active?.description.contains("retract keys rotate") == true)

        let interrupted = try await service.rotateKeys(batchSize: 5) { _ in false }
        let inUse = await #expect(throws: VaultError.self) { try service.retireKey(old) }
        #expect(inUse?.description.contains("still seals 9 live values") == true)
        #expect(inUse?.description.contains("run `retract keys rotate` first") == true)
        #expect(FileManager.default.fileExists(atPath: keyFile(sent.bench, old)))

        let unknown = await #expect(throws: RetractError.self) { try service.retireKey("0000000000000000") }
        #expect(unknown?.description.contains("retract keys list") == true)
        #expect(interrupted.interrupted)
    }

    @Test("an interrupted rotation is finished by the next run, under the same new key, and then the old key retires")
    func interruptedRotationResumes() async throws {
        let sent = try await sendTwo()
        let service = sent.bench.service
        let old = service.keys.active.kid
        var batches = 0
        let first = try await service.rotateKeys(batchSize: 3) { _ in
            batches += 1
            return batches < 2
        }
        #expect(first.interrupted && first.createdKey && first.resealed == 6)
        // Half-way, both keys open what they seal.
        try await openAll(sent)

        let second = try await service.rotateKeys(batchSize: 3)
        #expect(!second.createdKey)
        #expect(second.kid == first.kid)
        #expect(second.resealed == 8 && second.isFinished)
        #expect(try KeyDirectory(url: sent.bench.configuration.keysDirectory).keyIDs() == [old, first.kid])

        try service.retireKey(old)
        #expect(!FileManager.default.fileExists(atPath: keyFile(sent.bench, old)))
        #expect(try KeyDirectory(url: sent.bench.configuration.keysDirectory).keyIDs() == [first.kid])
        #expect(service.keys.keyIDs == [first.kid])
        #expect(throws: VaultError.self) { try service.keys.key(old) }
        try await openAll(sent)
        #expect(await deliver(sent).delivered == 6)

        // A third run starts a new rotation: everything is under the active key.
        let third = try await service.rotateKeys()
        #expect(third.createdKey && third.kid > first.kid && third.resealed == 8)
    }

    @Test("every live link still opens after rotate and retire, from a service started afresh on the keys left")
    func linksOpenAfterRetire() async throws {
        let sent = try await sendTwo()
        let old = sent.bench.service.keys.active.kid
        _ = try await sent.bench.service.rotateKeys()
        try sent.bench.service.retireKey(old)
        let fresh = RetractService(
            configuration: sent.bench.configuration, vault: sent.bench.service.vault,
            keys: try KeyDirectory(url: sent.bench.configuration.keysDirectory).load(), templates: try MailTemplates(),
            transport: FileOutboxTransport(directory: sent.bench.configuration.outboxDirectory))
        try fresh.checkKeysCoverVault()
        for link in try sent.links {
            _ = try await fresh.open(token: link.token, linkKey: link.linkKey)
        }
    }

    @Test("opens keep succeeding while a rotation re-seals their shares in small batches")
    func opensDuringRotation() async throws {
        let sent = try await sendTwo(recipients: 60)
        let service = sent.bench.service
        let links = try sent.links
        let done = Atomic<Bool>(false)
        let opener = Task {
            var opened = 0
            var failures: [String] = []
            var index = 0
            repeat {
                let link = links[index % links.count]
                do {
                    _ = try await service.open(token: link.token, linkKey: link.linkKey)
                    opened += 1
                } catch {
                    failures.append("\(error)")
                }
                index += 1
            } while !done.load(ordering: .acquiring) || index < links.count
            return (opened, failures)
        }
        let rotation = try await service.rotateKeys(batchSize: 5)
        done.store(true, ordering: .releasing)
        let (opened, failures) = await opener.value
        #expect(rotation.isFinished && rotation.resealed == 120 + 2 + 120)
        #expect(failures.isEmpty)
        #expect(opened >= links.count)
    }

    @Test("opens succeed between every batch of a rotation, when half the shares are under each key")
    func opensBetweenBatches() async throws {
        let sent = try await sendTwo(recipients: 4)
        let service = sent.bench.service
        while true {
            let step = try await service.rotateKeys(batchSize: 1) { _ in false }
            try await openAll(sent)
            if step.remaining == 0 { break }
        }
        #expect(try service.vault.keyUsage().count == 1)
    }

    @Test("a row revoked between the rotation's read and its write stays revoked; the write skips it")
    func revokeBetweenReadAndWrite() async throws {
        let sent = try await sendTwo()
        let service = sent.bench.service
        let target = try KeyDirectory(url: sent.bench.configuration.keysDirectory).createKey()
        let values = try service.vault.sealedValues(.share, notUnder: target.kid, after: nil, limit: 100)
        #expect(values.count == 6)
        _ = try await service.revoke(
            RevokeRequest(messageID: sent.receipts[0].messageID, recipients: ["r0-0@partner.test"], reason: nil))
        let replacements = values.map {
            SealedValue.Replacement(original: $0, kid: target.kid, sealed: $0.sealed)
        }
        #expect(try service.vault.replaceSealedValues(replacements) == 5)
        let refusal = await #expect(throws: OpenFailure.self) {
            let link = try sent.link("r0-0@partner.test")
            _ = try await service.open(token: link.token, linkKey: link.linkKey)
        }
        guard case .revoked = refusal else {
            Issue.record("expected revoked, got \(String(describing: refusal))")
            return
        }
    }

    @Test(
        "after revoke, rotate and retire, a copy of the vault taken before the revoke plus the remaining keys cannot open the revoked grant"
    )
    func copiedVaultCannotOpenRevokedGrant() async throws {
        let sent = try await sendTwo()
        let bench = sent.bench
        let service = bench.service
        let old = service.keys.active.kid
        let revoked = try sent.link("r0-1@partner.test")

        // The attacker's copy: database file, WAL and part files, before the revoke.
        let copy = bench.root.appendingPathComponent("stolen")
        try FileManager.default.copyItem(at: bench.configuration.dataDirectory, to: copy)
        #expect(
            FileManager.default.fileExists(atPath: copy.appendingPathComponent(VaultDatabase.fileName + "-wal").path))

        _ = try await service.revoke(
            RevokeRequest(
                messageID: sent.receipts[0].messageID, recipients: ["r0-1@partner.test"], reason: "wrong person"))
        let live = try service.vault.grants(messageID: sent.receipts[0].messageID).first {
            $0.recipient == "r0-1@partner.test"
        }
        #expect(live?.sealedShare == nil && live?.wrappedDek == nil)

        let rotation = try await service.rotateKeys()
        func stolenService() throws -> RetractService {
            var configuration = bench.configuration
            configuration.dataDirectory = copy
            return RetractService(
                configuration: configuration, vault: try VaultDatabase.open(directory: copy),
                keys: try KeyDirectory(url: bench.configuration.keysDirectory).load(), templates: try MailTemplates(),
                transport: FileOutboxTransport(directory: copy.appendingPathComponent("outbox")))
        }
        // While the old key exists, the copy still opens the grant: the test can tell.
        _ = try await stolenService().open(token: revoked.token, linkKey: revoked.linkKey)

        try service.retireKey(old)
        let stolen = try stolenService()
        let failure = await #expect(throws: OpenFailure.self) {
            _ = try await stolen.open(token: revoked.token, linkKey: revoked.linkKey)
        }
        #expect(failure == .damaged)

        // Nor does any remaining key, under its own kid or under the row's.
        let row = try #require(
            try stolen.vault.grants(messageID: sent.receipts[0].messageID).first { $0.recipient == "r0-1@partner.test" }
        )
        let sealedShare = try #require(row.sealedShare)
        let wrapped = try #require(row.wrappedDek)
        #expect(row.shareKid == old)
        let messageID = try MessageID(parsing: sent.receipts[0].messageID)
        for kid in try KeyDirectory(url: bench.configuration.keysDirectory).keyIDs() {
            let key = try stolen.keys.key(kid)
            #expect(kid == rotation.kid)
            let renamed = try key.withUnsafeSecretBytes { try MasterKey(kid: old, secret: SecureBytes(copying: $0)) }
            for master in [key, renamed] {
                #expect(throws: SealError.invalidKey) {
                    _ = try GrantCrypto.openDataKey(
                        sealedShare: [UInt8](sealedShare), wrappedDataKey: [UInt8](wrapped), master: master,
                        token: revoked.token, linkKey: revoked.linkKey, messageID: messageID)
                }
            }
        }
    }

    @Test(
        "scheduled maintenance rotates when the active key is older than the interval and retires the old key after the grace"
    )
    func scheduledRotation() async throws {
        let sent = try await sendTwo()
        let bench = sent.bench
        let service = bench.service
        let first = service.keys.active.kid
        let day: TimeInterval = 86_400

        // The bench's clock is months ahead of the first key's kid: a rotation is due.
        let turn = await service.runKeyMaintenance(every: day)
        let second = try #require(turn.rotation)
        #expect(second.createdKey && second.isFinished && turn.retired.isEmpty)

        bench.clock.advance(RetractService.keyRetireGrace + 1)
        #expect(await service.runKeyMaintenance(every: day) == KeyMaintenance(retired: [first]))
        #expect(try KeyDirectory(url: bench.configuration.keysDirectory).keyIDs() == [second.kid])
        #expect(await service.runKeyMaintenance(every: day) == KeyMaintenance())

        bench.clock.advance(day)
        let third = try #require(await service.runKeyMaintenance(every: day).rotation)
        #expect(third.kid > second.kid && third.resealed == 14)
        try await openAll(sent)
    }

    @Test("a key ring follows its directory: a key made or retired by another process is seen at the next use")
    func ringFollowsDirectory() async throws {
        let sent = try await sendTwo()
        let service = sent.bench.service
        let elsewhere = KeyDirectory(url: sent.bench.configuration.keysDirectory)
        let old = service.keys.active.kid
        let new = try elsewhere.createKey()
        #expect(service.keys.active.kid == new.kid)
        #expect(try service.keys.key(old).kid == old)
        try elsewhere.destroyKey(old)
        #expect(service.keys.keyIDs == [new.kid])
        #expect(throws: VaultError.self) { try service.keys.key(old) }
    }

    @Test("a key directory lacking a key the vault still needs is refused, naming the key")
    func missingKeyRefused() async throws {
        let sent = try await sendTwo()
        let service = sent.bench.service
        let old = service.keys.active.kid
        _ = try KeyDirectory(url: sent.bench.configuration.keysDirectory).createKey()
        try service.checkKeysCoverVault()
        try FileManager.default.removeItem(atPath: keyFile(sent.bench, old))
        let error = #expect(throws: VaultError.self) { try service.checkKeysCoverVault() }
        #expect(error?.description.contains("needs master key \(old), missing from") == true)
        #expect(try service.keyStates().first { $0.kid == old }?.state == .missing)
    }
}
