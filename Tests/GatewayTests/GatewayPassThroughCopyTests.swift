import Foundation
import Mail
import RetractCore
import RetractTestSupport
import Testing
import Vault

@testable import Gateway

/// The pass-through copy for internal recipients: stored once per message as part 1 (the
/// sealed original the outsiders' links open), each recipient's outbox row only a
/// reference to it, streamed out by the worker; kept while a row may still deliver it,
/// whatever a revocation did to the links, and removed once no row and no link needs it.
@Suite("Gateway pass-through copy")
struct GatewayPassThroughCopyTests {
    /// The original with a 300 KiB body, so a copy per recipient would show in the rows.
    static func largeOriginal() -> [UInt8] {
        var original = GatewayAcceptorTests.original()
        original += Array("\r\n".utf8)
        for line in 0..<4000 { original += Array(".line \(line): the figures for the quarter, in full detail\r\n".utf8) }
        return original
    }

    /// The pass-through part files of message `id` in the vault's parts directory.
    static func passThroughFiles(_ bench: TestBench, id: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: bench.service.vault.parts.directory.path)
            .filter { $0 == SealedPartStore.fileName(messageID: id, part: VaultDatabase.passThroughPartIndex) }
    }

    @Test("three internal recipients: the copy is stored once, as the sealed original, each row holds a reference, all three get it")
    func storedOnceForManyRecipients() async throws {
        // Given a large message to three colleagues and one outsider
        let bench = try GatewayAcceptorTests.bench()
        let original = Self.largeOriginal()
        let internals = ["carol@corp.test", "dan@corp.test", "erin@corp.test"]
        let message = try GatewayAcceptorTests.received(
            bench, bytes: original, recipients: internals + ["bob@partner.test"])

        // When the gateway accepts it
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))

        // Then the sealed original is the one copy (the envelope, small, is in its row), and
        // the three rows only refer to it
        let part = try #require(
            try bench.service.vault.sealedPartRecord(messageID: id, index: VaultDatabase.passThroughPartIndex))
        #expect(part.plaintextSize == Int64(original.count))
        #expect(try Self.passThroughFiles(bench, id: id).count == 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: bench.service.vault.parts.directory.path)
        #expect(files.filter { $0.hasPrefix(id) }.sorted() == ["\(id).1"])
        let rows = try bench.service.vault.outboxMail(messageID: id).filter { $0.kind == .passthrough }
        #expect(rows.map(\.recipient).sorted() == internals)
        for row in rows { #expect((row.sealedData?.count ?? 0) < 1024, "a row holds \(row.sealedData?.count ?? 0) bytes") }

        // When the worker delivers
        _ = await bench.service.deliverDueMail()

        // Then each colleague got the original behind one Received line, the same bytes for all
        let mails = try GatewayAcceptorTests.delivered(bench, messageID: id).filter { $0.row.kind == .passthrough }
        #expect(mails.count == 3)
        for mail in mails {
            let crlf = try #require(mail.bytes.firstRange(of: [0x0D, 0x0A]))
            #expect(String(decoding: mail.bytes[..<crlf.lowerBound], as: UTF8.self).hasPrefix("Received: from "))
            #expect(Array(mail.bytes[crlf.upperBound...]) == original)
            #expect(mail.bytes == mails[0].bytes)
        }
        // And the rows' references (the data key) are erased, while the sealed original stays
        // for the outsider's live link
        let done = try bench.service.vault.outboxMail(messageID: id).filter { $0.kind == .passthrough }
        #expect(done.allSatisfy { $0.state == .sent && $0.sealedData == nil })
        #expect(try bench.service.vault.sealedPartRecord(messageID: id, index: 1) != nil)
    }

    @Test("a message only to colleagues: the copy is sealed once, streamed to both, and removed once both got it")
    func internalOnly() async throws {
        let bench = try GatewayAcceptorTests.bench()
        let original = Self.largeOriginal()
        let message = try GatewayAcceptorTests.received(
            bench, bytes: original, recipients: ["carol@corp.test", "dan@corp.test"])
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        #expect(try bench.service.vault.grants(messageID: id).isEmpty)
        #expect(try Self.passThroughFiles(bench, id: id).count == 1)

        _ = await bench.service.deliverDueMail()

        let mails = try GatewayAcceptorTests.delivered(bench, messageID: id)
        #expect(mails.count == 2)
        for mail in mails {
            let crlf = try #require(mail.bytes.firstRange(of: [0x0D, 0x0A]))
            #expect(Array(mail.bytes[crlf.upperBound...]) == original)
        }
        #expect(try bench.service.vault.sealedPartRecord(messageID: id, index: VaultDatabase.passThroughPartIndex) == nil)
        #expect(try Self.passThroughFiles(bench, id: id).isEmpty)
    }

    @Test("a revocation before delivery destroys the links' content but keeps the colleagues' copy until it went out")
    func revocationKeepsPendingCopy() async throws {
        // Given a message to a colleague and an outsider, accepted but not yet delivered
        let bench = try GatewayAcceptorTests.bench()
        let original = Self.largeOriginal()
        let message = try GatewayAcceptorTests.received(
            bench, bytes: original, recipients: ["carol@corp.test", "bob@partner.test"])
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))

        // When the sender revokes it (the worker has not run yet)
        let report = try await bench.service.revokeQueuingNotices(RevokeRequest(messageID: id))

        // Then every link is dead (its key material destroyed) and the envelope is gone, but
        // the original stays as Carol's pass-through copy
        #expect(report.contentDestroyed)
        #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt != nil && $0.wrappedDek == nil })
        #expect(try bench.service.vault.sealedPartRecord(messageID: id, index: 0) == nil)
        #expect(try bench.service.vault.sealedPartRecord(messageID: id, index: VaultDatabase.passThroughPartIndex) != nil)

        // When the worker runs
        _ = await bench.service.deliverDueMail()

        // Then Carol got the original (internal mail is not a revocable link), Bob no link,
        // and the copy is gone
        let rows = try bench.service.vault.outboxMail(messageID: id)
        #expect(rows.first { $0.kind == .notification }?.state == .cancelled)
        let carol = try #require(rows.first { $0.recipient == "carol@corp.test" })
        #expect(carol.state == .sent)
        let bytes = [UInt8](
            try Data(contentsOf: bench.configuration.outboxDirectory.appendingPathComponent("\(carol.id).eml")))
        let crlf = try #require(bytes.firstRange(of: [0x0D, 0x0A]))
        #expect(Array(bytes[crlf.upperBound...]) == original)
        #expect(try bench.service.vault.sealedPartRecord(messageID: id, index: VaultDatabase.passThroughPartIndex) == nil)
        #expect(try Self.passThroughFiles(bench, id: id).isEmpty)
    }

    @Test("a revoked message's copy whose rows were all done before a crash is removed when the service starts")
    func sweptAtStart() async throws {
        let bench = try GatewayAcceptorTests.bench()
        let message = try GatewayAcceptorTests.received(
            bench, bytes: Self.largeOriginal(), recipients: ["carol@corp.test", "bob@partner.test"])
        let id = try GatewayAcceptorTests.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = try await bench.service.revokeQueuingNotices(RevokeRequest(messageID: id))
        // The rows finished (as if the process died before the worker's sweep)
        for row in try bench.service.vault.outboxMail(messageID: id) where row.kind == .passthrough {
            try bench.service.vault.markDelivered(mailID: row.id, at: Date())
        }
        #expect(try Self.passThroughFiles(bench, id: id).count == 1)

        try bench.service.releaseAllClaims()

        #expect(try bench.service.vault.sealedPartRecord(messageID: id, index: VaultDatabase.passThroughPartIndex) == nil)
        #expect(try Self.passThroughFiles(bench, id: id).isEmpty)
    }
}
