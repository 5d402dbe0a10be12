import Foundation
import GRDB
import Testing

@testable import Vault

/// The vault's side of an open: the grant lookup every page view and open runs, and the
/// view counter and access log that concurrent opens write.
@Suite("Recording opens")
struct OpenRecordingTests {
    static let messageID = "00112233445566778899aabbccddeeff"
    static let tokenHash = [UInt8](repeating: 5, count: 32)

    /// A vault file in a fresh folder (a `DatabasePool`, as `retract serve` uses) holding
    /// one message with one grant.
    func vaultWithGrant(maxViews: Int?) throws -> (VaultDatabase, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retract-open-\(UUID().uuidString)")
        let vault = try VaultDatabase.open(directory: directory)
        let message = MessageRecord(
            id: Self.messageID, sender: "alice@corp.test", senderName: "Alice", sealedSubject: Data([1, 2, 3]),
            subjectKid: "k", locale: "zh-Hans", createdAt: Date(timeIntervalSince1970: 1_800_000_000),
            expiresAt: Date(timeIntervalSince1970: 1_900_000_000), maxViews: maxViews,
            deliverAfter: Date(timeIntervalSince1970: 1_800_000_060), partCount: 1, supersedes: nil,
            verify: true)
        let grant = NewGrant(
            grant: GrantRecord(
                messageId: Self.messageID, tokenHash: Data(Self.tokenHash), recipient: "bob@partner.test", kind: .cc,
                shareKid: "k", sealedShare: Data([9]), wrappedDek: Data([8]), notificationMessageId: "<m@x>"),
            notification: OutboxMailRecord(
                id: "mail", messageId: Self.messageID, grantId: nil, kind: .notification, mailFrom: "r@x",
                recipient: "bob@partner.test", rfcMessageId: "<m@x>", sealedData: Data([7]), dataKid: "k",
                notBefore: Date(), createdAt: Date()))
        try vault.storeSealedMessage(message, grants: [grant]) { writer in
            try writer.beginPart(0, header: [UInt8](repeating: 0, count: 24))
            try writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: [1])
            try writer.finishPart(0, chunkCount: 1, plaintextSize: 0)
        }
        return (vault, directory)
    }

    func grantID(_ vault: VaultDatabase) async throws -> Int64 {
        let lookup = try await vault.grant(tokenHash: Self.tokenHash)
        return try #require(lookup?.grant.id)
    }

    @Test("the grant lookup reads the same grant and message as their Codable decoding")
    func lookupMatchesCodable() async throws {
        // Given a grant and message with every nullable column set
        let (vault, directory) = try vaultWithGrant(maxViews: 3)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await vault.writer.write { db in
            try db.execute(
                sql: """
                    UPDATE grants SET views = 2, first_opened_at = ?, last_opened_at = ?, revoke_reason = 'r',
                    replacement_message_id = message_id
                    """,
                arguments: [Date(timeIntervalSince1970: 1_800_000_100), Date(timeIntervalSince1970: 1_800_000_200.5)])
        }

        // When it is looked up by token hash
        let found = try await vault.grant(tokenHash: Self.tokenHash)
        let lookup = try #require(found)

        // Then it equals what GRDB's Codable decoding reads
        let (grant, message) = try await vault.reader.read { db in
            (
                try GrantRecord.filter(GrantRecord.Columns.tokenHash == Data(Self.tokenHash)).fetchOne(db),
                try MessageRecord.fetchOne(db, key: Self.messageID)
            )
        }
        #expect(lookup.grant == grant)
        #expect(lookup.message == message)
        #expect(lookup.grant.views == 2 && lookup.message.verify && lookup.message.maxViews == 3)
    }

    @Test("concurrent opens never count more views than the message's limit")
    func concurrentOpensKeepTheLimit() async throws {
        // Given a grant with a limit of 5 views
        let (vault, directory) = try vaultWithGrant(maxViews: 5)
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = try await grantID(vault)

        // When 60 opens record at once
        let counted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<60 {
                group.addTask {
                    try await vault.recordOpen(grantID: id, tokenHash: Self.tokenHash, maxViews: 5, at: Date())
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }

        // Then exactly 5 were counted, in the counter and in the access log
        let (views, logged) = try await vault.reader.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT views FROM grants WHERE id = ?", arguments: [id]),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM access_events WHERE result = 'opened'")
            )
        }
        #expect(counted == 5)
        #expect(views == 5)
        #expect(logged == 5)
    }

    @Test("an open that returned is committed: a new connection to the file sees it")
    func returnedOpenIsCommitted() async throws {
        // Given a grant without a view limit
        let (vault, directory) = try vaultWithGrant(maxViews: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = try await grantID(vault)

        // When 20 opens record at once and return
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { try await vault.recordOpen(grantID: id, tokenHash: Self.tokenHash, maxViews: nil, at: Date()) }
            }
            for try await counted in group { #expect(counted) }
        }

        // Then another connection to the same file reads all 20
        let other = try DatabaseQueue(path: directory.appendingPathComponent(VaultDatabase.fileName).path)
        let views = try await other.read { db in try Int.fetchOne(db, sql: "SELECT views FROM grants") }
        #expect(views == 20)
    }

    @Test("among concurrent access-log writes, one that fails fails alone; the others are stored")
    func failingWriteFailsAlone() async throws {
        // Given a grant, and access-log entries half of which name a grant that does not exist
        let (vault, directory) = try vaultWithGrant(maxViews: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = try await grantID(vault)

        // When they are all written at once
        let outcomes = await withTaskGroup(of: (Bool, Bool).self) { group in
            for index in 0..<40 {
                let valid = index % 2 == 0
                group.addTask {
                    do {
                        try await vault.recordAccess(
                            grantID: valid ? id : 999_999, tokenHash: Self.tokenHash, at: Date(), result: .invalidKey)
                        return (valid, true)
                    } catch {
                        return (valid, false)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }

        // Then exactly the valid ones succeeded and were stored (the foreign key refused the rest)
        #expect(outcomes.allSatisfy { valid, stored in valid == stored })
        let logged = try await vault.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM access_events WHERE grant_id = ?", arguments: [id])
        }
        #expect(logged == 20)
        let failures = try await vault.failedAttempts(tokenHash: Self.tokenHash, since: .distantPast)
        #expect(failures == 20)
    }
}
