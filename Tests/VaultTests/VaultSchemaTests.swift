import Foundation
import GRDB
import Testing

@testable import Vault

@Suite("Vault schema and invariants")
struct VaultSchemaTests {
    func message(_ id: String = "00112233445566778899aabbccddeeff") -> MessageRecord {
        MessageRecord(
            id: id, sender: "alice@corp.test", senderName: nil, sealedSubject: Data([1, 2, 3]), subjectKid: "k",
            locale: "en", createdAt: Date(), expiresAt: nil, maxViews: nil, deliverAfter: Date(), partCount: 1)
    }

    func grant(_ messageID: String, hash: UInt8) -> NewGrant {
        NewGrant(
            grant: GrantRecord(
                messageId: messageID, tokenHash: Data(repeating: hash, count: 32), recipient: "bob@partner.test",
                kind: .to, shareKid: "k", sealedShare: Data([9]), wrappedDek: Data([8]), notificationMessageId: "<m@x>"),
            notification: OutboxMailRecord(
                id: "mail\(hash)", messageId: messageID, grantId: nil, kind: .notification, mailFrom: "r@x",
                recipient: "bob@partner.test", rfcMessageId: "<m@x>", sealedData: Data([7]), dataKid: "k",
                notBefore: Date(), createdAt: Date()))
    }

    @Test("secure_delete is on and a file vault runs in WAL mode")
    func pragmas() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retract-vault-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try VaultDatabase.open(directory: directory)
        let (secureDelete, journalMode) = try vault.reader.read { db in
            (try Int.fetchOne(db, sql: "PRAGMA secure_delete"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(secureDelete == 1)
        #expect(journalMode == "wal")
    }

    @Test("a failure while writing parts stores nothing of the message")
    func failedStoreRollsBack() throws {
        let vault = try VaultDatabase.inMemory()
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try vault.storeSealedMessage(message(), grants: [grant("00112233445566778899aabbccddeeff", hash: 1)]) { writer in
                try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
                throw Boom()
            }
        }
        #expect(try vault.messages().isEmpty)
        #expect(try vault.pendingMail().isEmpty)
    }

    @Test("the schema refuses a revoked grant that still holds key material")
    func revokedGrantCannotKeepKeys() throws {
        let vault = try VaultDatabase.inMemory()
        let id = "00112233445566778899aabbccddeeff"
        try vault.storeSealedMessage(message(id), grants: [grant(id, hash: 2)]) { writer in
            try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
            try writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: [1])
            try writer.finishPart(0, chunkCount: 1, plaintextSize: 0)
        }
        #expect(throws: DatabaseError.self) {
            try vault.writer.write { db in try db.execute(sql: "UPDATE grants SET revoked_at = CURRENT_TIMESTAMP") }
        }
    }

    @Test("two grants cannot share a token hash")
    func tokenHashIsUnique() throws {
        let vault = try VaultDatabase.inMemory()
        let id = "00112233445566778899aabbccddeeff"
        #expect(throws: DatabaseError.self) {
            try vault.storeSealedMessage(message(id), grants: [grant(id, hash: 3), grant(id, hash: 3)]) { _ in }
        }
    }
}
