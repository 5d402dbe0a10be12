import Foundation
#if canImport(Glibc)
    import Glibc
#endif
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

@Suite("Sealed part files")
struct SealedPartFileTests {
    let id = "00112233445566778899aabbccddeeff"

    func message() -> MessageRecord {
        MessageRecord(
            id: id, sender: "alice@corp.test", senderName: nil, sealedSubject: Data([1, 2, 3]), subjectKid: "k",
            locale: "en", createdAt: Date(), expiresAt: nil, maxViews: nil, deliverAfter: Date(), partCount: 2)
    }

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("retract-vault-\(UUID().uuidString)")
    }

    @Test("a failed store removes the part files it had written")
    func failedStoreRemovesFiles() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try VaultDatabase.open(directory: directory)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try vault.storeSealedMessage(message(), grants: []) { writer in
                try writer.beginPart(1, header: [UInt8](repeating: 0, count: 24))
                try writer.appendChunk(partIndex: 1, chunkIndex: 0, ciphertext: [UInt8](repeating: 7, count: 40))
                try writer.finishPart(1, chunkCount: 1, plaintextSize: 23)
                try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
                throw Boom()
            }
        }
        #expect(try vault.messages().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.parts.directory.path).isEmpty)
    }

    @Test("a part of at most one sealed chunk is stored in its row and gets no file; a part any larger has a file")
    func smallPartIsStoredInItsRow() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try VaultDatabase.open(directory: directory)
        let fits = [UInt8](repeating: 6, count: SealedPartStore.inlineLimit)
        let tail = [UInt8](repeating: 8, count: SealedPartStore.chunkOverhead + 1)
        try vault.storeSealedMessage(message(), grants: []) { writer in
            try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
            try writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: fits)
            try writer.finishPart(0, chunkCount: 1, plaintextSize: 65_536)
            try writer.beginPart(1, header: [UInt8](repeating: 0, count: 24))
            try writer.appendChunk(partIndex: 1, chunkIndex: 0, ciphertext: fits)
            try writer.appendChunk(partIndex: 1, chunkIndex: 1, ciphertext: tail)
            try writer.finishPart(1, chunkCount: 2, plaintextSize: 65_537)
        }
        // Part 0 is in its row, part 1 (a short chunk over) in its file, and both read back.
        let row = try #require(try await vault.sealedPart(messageID: id, index: 0))
        #expect(row.inlineData == Data(fits))
        #expect(try await vault.sealedPart(messageID: id, index: 1)?.inlineData == nil)
        let names = try FileManager.default.contentsOfDirectory(atPath: vault.parts.directory.path)
        #expect(names == [SealedPartStore.fileName(messageID: id, part: 1)])
        #expect(try await vault.sealedChunk(messageID: id, part: 0, chunk: 0) == fits)
        #expect(try await vault.sealedChunk(messageID: id, part: 1, chunk: 1) == tail)
        // A row whose bytes do not fit its chunk count is refused, like a short file.
        var damaged = row
        damaged.chunkCount = 2
        #expect(throws: VaultError.self) { try vault.openSealedPart(damaged) }
    }

    @Test("syncing the committed writes works on a file vault with a WAL, and is a no-op in memory")
    func syncCommittedWrites() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try VaultDatabase.open(directory: directory)
        try vault.storeSealedMessage(message(), grants: []) { writer in
            try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
            try writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: [UInt8](repeating: 3, count: 40))
            try writer.finishPart(0, chunkCount: 1, plaintextSize: 23)
        }
        #expect(FileManager.default.fileExists(atPath: try #require(vault.path) + "-wal"))
        try vault.syncCommittedWrites()
        try VaultDatabase.inMemory().syncCommittedWrites()
    }

    @Test("a stored part reads back chunk by chunk from its file; a short file is refused")
    func storedPartReadsBack() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try VaultDatabase.open(directory: directory)
        let full = [UInt8](repeating: 1, count: SealedPartStore.sealedChunkSize)
        let last = [UInt8](repeating: 2, count: 30)
        try vault.storeSealedMessage(message(), grants: []) { writer in
            try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
            try writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: full)
            try writer.appendChunk(partIndex: 0, chunkIndex: 1, ciphertext: last)
            try writer.finishPart(0, chunkCount: 2, plaintextSize: 65_536 + 13)
        }
        #expect(try await vault.sealedChunk(messageID: id, part: 0, chunk: 0) == full)
        #expect(try await vault.sealedChunk(messageID: id, part: 0, chunk: 1) == last)
        #expect(try await vault.sealedChunk(messageID: id, part: 0, chunk: 2) == nil)
        let path = try vault.parts.path(messageID: id, part: 0)
        #expect(truncate(path, off_t(SealedPartStore.sealedChunkSize)) == 0)
        let record = try #require(try await vault.sealedPart(messageID: id, index: 0))
        #expect(throws: VaultError.self) { try vault.openSealedPart(record) }
    }

    @Test("a store whose transaction fails after its parts were sealed and renamed removes their files")
    func failedTransactionRemovesPlacedFiles() throws {
        // Given a file vault
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let vault = try VaultDatabase.open(directory: directory)
        let duplicate = NewGrant(
            grant: GrantRecord(
                messageId: id, tokenHash: Data(repeating: 5, count: 32), recipient: "bob@partner.test", kind: .to,
                shareKid: "k", sealedShare: Data([9]), wrappedDek: Data([8]), notificationMessageId: "<m@x>"),
            notification: nil)

        // When the parts are sealed but the transaction fails on its last rows (two grants, one token hash)
        #expect(throws: DatabaseError.self) {
            try vault.storeSealedMessage(message(), grants: [duplicate, duplicate]) { writer in
                for part in 0..<2 {
                    try writer.beginPart(part, header: [UInt8](repeating: 0, count: 24))
                    try writer.appendChunk(partIndex: part, chunkIndex: 0, ciphertext: [UInt8](repeating: 7, count: 40))
                    try writer.finishPart(part, chunkCount: 1, plaintextSize: 23)
                }
            }
        }

        // Then neither a row nor a file is left, staged or renamed
        #expect(try vault.messages().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.parts.directory.path).isEmpty)
    }

    @Test("opening the vault removes the staging files of processes that are gone and keeps a running one's")
    func staleStagingFilesRemovedOnOpen() throws {
        // Given staging files of a process that is gone, of this process (left before the
        // vault was opened) and of a running one (the parent of this test process)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try VaultDatabase.open(directory: directory)
        let parts = directory.appendingPathComponent(SealedPartStore.directoryName)
        var gone: pid_t = 4_194_303
        while kill(gone, 0) == 0 || errno != ESRCH { gone -= 1 }
        let name = { (pid: pid_t) in SealedPartStore.fileName(messageID: id, part: 1) + ".\(pid).sealing" }
        for pid in [gone, getpid(), getppid()] {
            try Data([1, 2, 3]).write(to: parts.appendingPathComponent(name(pid)))
        }

        // When the vault is opened again
        let reopened = try VaultDatabase.open(directory: directory)

        // Then only the running process's staging file is left
        #expect(try FileManager.default.contentsOfDirectory(atPath: reopened.parts.directory.path) == [name(getppid())])
    }

    @Test("opening the vault removes part files that have no row")
    func orphansRemovedOnOpen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let vault = try VaultDatabase.open(directory: directory)
            // Two chunks: too large for its row, so the part has a file.
            try vault.storeSealedMessage(message(), grants: []) { writer in
                try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
                try writer.appendChunk(
                    partIndex: 0, chunkIndex: 0, ciphertext: [UInt8](repeating: 3, count: SealedPartStore.sealedChunkSize))
                try writer.appendChunk(partIndex: 0, chunkIndex: 1, ciphertext: [UInt8](repeating: 3, count: 20))
                try writer.finishPart(0, chunkCount: 2, plaintextSize: 65_539)
            }
        }
        let parts = directory.appendingPathComponent(SealedPartStore.directoryName)
        let orphan = parts.appendingPathComponent(SealedPartStore.fileName(messageID: "ffeeddccbbaa99887766554433221100", part: 1))
        try Data([1, 2, 3]).write(to: orphan)
        let reopened = try VaultDatabase.open(directory: directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: reopened.parts.directory.path)
        #expect(names == [SealedPartStore.fileName(messageID: id, part: 0)])
    }

    @Test("v4 moves chunks stored in SQLite by earlier versions into part files and drops the table")
    func migratesOldChunks() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(VaultDatabase.fileName).path
        let parts = try SealedPartStore(directory: directory.appendingPathComponent(SealedPartStore.directoryName))
        do {
            let pool = try DatabasePool(path: path, configuration: VaultDatabase.configuration)
            try VaultDatabase.migrator(parts: parts).migrate(pool, upTo: "v3-delivery")
            try await pool.write { db in
                // Only the columns a v3 vault has: today's MessageRecord carries later ones.
                try db.execute(
                    sql: """
                        INSERT INTO messages (id, sender, sealed_subject, subject_kid, locale, created_at, deliver_after, part_count)
                        VALUES (?, 'alice@corp.test', ?, 'k', 'en', ?, ?, 2)
                        """,
                    arguments: [id, Data([1, 2, 3]), Date(), Date()])
                try db.execute(
                    sql: """
                        INSERT INTO sealed_parts (message_id, part_index, header, chunk_count, plaintext_size)
                        VALUES (?, 0, ?, 2, 65540)
                        """,
                    arguments: [id, Data(count: 24)])
                try db.execute(
                    sql: "INSERT INTO sealed_chunks VALUES (?, 0, 0, ?), (?, 0, 1, ?)",
                    arguments: [id, Data(repeating: 4, count: SealedPartStore.sealedChunkSize), id, Data(repeating: 5, count: 21)])
            }
        }
        let vault = try VaultDatabase.open(directory: directory)
        #expect(try await vault.sealedChunk(messageID: id, part: 0, chunk: 1) == [UInt8](repeating: 5, count: 21))
        #expect(try await vault.sealedChunk(messageID: id, part: 0, chunk: 0)?.count == SealedPartStore.sealedChunkSize)
        let tableLeft = try await vault.reader.read { db in try db.tableExists("sealed_chunks") }
        #expect(!tableLeft)
    }
}
