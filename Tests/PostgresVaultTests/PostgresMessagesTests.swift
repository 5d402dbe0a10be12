import Foundation
import PostgresVault
import RetractTestSupport
import Testing
import Vault

/// Messages, sealed parts, grants and opens on PostgreSQL, and revocation across nodes.
@Suite("PostgreSQL vault: messages, opens and revocation across nodes", .sharedPostgresCluster)
struct PostgresMessagesTests {
    static let now = VaultFixtures.now
    static let chunkSize = SealedPartStore.sealedChunkSize

    /// `count` chunks of random ciphertext, the last one shorter, as a sealer makes them.
    static func chunks(_ count: Int) -> [[UInt8]] {
        (0..<count).map { index in
            (0..<(index == count - 1 ? 1_000 : chunkSize)).map { _ in UInt8.random(in: 0...255) }
        }
    }

    static func grants(_ message: MessageRecord, _ count: Int) -> [NewGrant] {
        (0..<count).map { index in
            let grant = VaultFixtures.grant(messageID: message.id, recipient: "r\(index)@example.org")
            return NewGrant(
                grant: grant,
                notification: VaultFixtures.mail(
                    messageID: message.id, recipient: grant.recipient, rfcMessageID: grant.notificationMessageId))
        }
    }

    static func count(_ table: String, _ database: String, where condition: String = "true") throws -> Int {
        let instance = try #require(SharedPostgresCluster.instance)
        return Int(try instance.psql("SELECT count(*) FROM \(table) WHERE \(condition);", database: database)) ?? -1
    }

    @Test("A message is stored whole: parts streamed in chunk rows and read back by range, grants with ids, notifications, capabilities")
    func storesMessageWithParts() async throws {
        let url = try await SharedPostgresCluster.freshDatabase()
        let vault = try await PostgresVaultDatabase.open(url, leaseTimeout: SharedPostgresCluster.leaseTimeout, logger: SharedPostgresCluster.logger)
        let message = VaultFixtures.message(partCount: 2)
        let envelope = Self.chunks(1)
        let attachment = Self.chunks(2 * PostgresSealedPartWriter.batchChunks + 3)  // three INSERTs
        let stored = try await vault.storeSealedMessage(
            message, grants: Self.grants(message, 3),
            capabilities: [(Data(repeating: 7, count: 32), .manage), (Data(repeating: 8, count: 32), .reply)]
        ) { writer in
            try await writer.beginPart(0, header: Array(repeating: 1, count: 24))
            try await writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: envelope[0])
            try await writer.finishPart(0, chunkCount: 1, plaintextSize: 983)
            try await writer.beginPart(1, header: Array(repeating: 2, count: 24))
            for (index, chunk) in attachment.enumerated() {
                try await writer.appendChunk(partIndex: 1, chunkIndex: index, ciphertext: chunk)
            }
            try await writer.finishPart(1, chunkCount: attachment.count, plaintextSize: 2_000_000)
        }

        #expect(try await vault.message(id: message.id) == message)
        #expect(stored.count == 3 && stored.allSatisfy { $0.id != nil })
        #expect(try await vault.grants(messageID: message.id) == stored)
        let mails = try await vault.outboxMail(messageID: message.id)
        #expect(Set(mails.compactMap(\.grantId)) == Set(stored.compactMap(\.id)))
        #expect(try Self.count("manage_links", url.database) == 2)

        let part = try #require(try await vault.sealedPart(messageID: message.id, index: 1))
        #expect(part.chunkCount == attachment.count && part.plaintextSize == 2_000_000 && part.header == Data(repeating: 2, count: 24))
        #expect(try await vault.sealedChunks(messageID: message.id, part: 1, chunks: 0..<attachment.count) == attachment)
        #expect(try await vault.sealedChunks(messageID: message.id, part: 1, chunks: 30..<40) == Array(attachment[30...]))
        #expect(try await vault.sealedChunk(messageID: message.id, part: 0, chunk: 0) == envelope[0])
        #expect(try await vault.sealedChunk(messageID: message.id, part: 1, chunk: attachment.count) == nil)
        #expect(try await vault.sealedPart(messageID: message.id, index: 2) == nil)
        await vault.close()
    }

    @Test("A send that fails while sealing, or appends a chunk out of order, leaves nothing stored")
    func failedSendLeavesNothing() async throws {
        struct UnreadableAttachment: Error {}
        let url = try await SharedPostgresCluster.freshDatabase()
        let vault = try await PostgresVaultDatabase.open(url, leaseTimeout: SharedPostgresCluster.leaseTimeout, logger: SharedPostgresCluster.logger)
        let chunks = Self.chunks(20)
        let message = VaultFixtures.message(partCount: 2)
        await #expect(throws: UnreadableAttachment.self) {
            try await vault.storeSealedMessage(message, grants: Self.grants(message, 2)) { writer in
                try await writer.beginPart(1, header: Array(repeating: 2, count: 24))
                for (index, chunk) in chunks.enumerated() {
                    try await writer.appendChunk(partIndex: 1, chunkIndex: index, ciphertext: chunk)
                }
                throw UnreadableAttachment()
            }
        }
        await #expect {
            try await vault.storeSealedMessage(message, grants: []) { writer in
                try await writer.beginPart(0, header: Array(repeating: 1, count: 24))
                try await writer.appendChunk(partIndex: 0, chunkIndex: 1, ciphertext: chunks[0])
            }
        } throws: { error in
            "\(error)" == "sealed part 0 of message \(message.id): chunk 1 appended out of order"
        }
        await #expect(throws: PostgresVaultError.self) {
            try await vault.storeSealedMessage(message, grants: []) { writer in
                try await writer.beginPart(0, header: Array(repeating: 1, count: 24))
                try await writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: chunks[0])
            }
        }
        for table in ["messages", "sealed_parts", "sealed_chunks", "grants", "outbox"] {
            #expect(try Self.count(table, url.database) == 0, "\(table)")
        }
        await vault.close()
    }

    @Test("Opens on node B are counted until node A's revoke returns, and refused after it")
    func openAfterRevokeOnAnotherNodeIsRefused() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let message = VaultFixtures.message()
            let grants = try await a.storeSealedMessage(message, grants: Self.grants(message, 2)) { _ in }
            let token = Array(grants[0].tokenHash)
            let found = try #require(try await b.grant(tokenHash: token))
            #expect(found.grant == grants[0] && found.message == message)
            let id = try #require(found.grant.id)
            #expect(try await b.recordOpen(grantID: id, tokenHash: token, maxViews: nil, at: Self.now))

            try await a.revoke(messageID: message.id) { transaction in
                try await transaction.revokeGrant(id, at: Self.now, reason: "sent to the wrong person", replacementMessageID: nil)
            }

            #expect(try await b.recordOpen(grantID: id, tokenHash: token, maxViews: nil, at: Self.now.addingTimeInterval(1)) == false)
            let after = try #require(try await b.grant(tokenHash: token)).grant
            #expect(after.revokedAt == Self.now && after.sealedShare == nil && after.wrappedDek == nil && after.views == 1)
            #expect(after.revokeReason == "sent to the wrong person")
            // The other recipient still opens; the log has the two opens.
            #expect(try await b.recordOpen(grantID: try #require(grants[1].id), tokenHash: Array(grants[1].tokenHash), maxViews: nil, at: Self.now))
            #expect(try await a.accessEvents(messageID: message.id).map(\.result) == [.opened, .opened])
        }
    }

    @Test("Concurrent opens on two nodes never take more views than the limit")
    func viewLimitHoldsAcrossNodes() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let message = VaultFixtures.message()
            let grant = try #require(try await a.storeSealedMessage(message, grants: Self.grants(message, 1)) { _ in }.first)
            let id = try #require(grant.id)
            let token = Array(grant.tokenHash)
            let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<20 {
                    let node = attempt.isMultiple(of: 2) ? a : b
                    group.addTask { try await node.recordOpen(grantID: id, tokenHash: token, maxViews: 3, at: Self.now) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(opened == 3)
            #expect(try await b.grants(messageID: message.id).first?.views == 3)
            #expect(try await a.failedAttempts(tokenHash: token, since: .distantPast) == 0)
            try await a.recordAccess(grantID: id, tokenHash: token, at: Self.now, result: .invalidKey)
            #expect(try await b.failedAttempts(tokenHash: token, since: Self.now) == 1)
        }
    }

    @Test("Two nodes revoking one message at once serialise on its row: each grant gets one notice, the parts go once")
    func concurrentRevokesQueueOneNotice() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            let message = VaultFixtures.message()
            let stored = try await a.storeSealedMessage(message, grants: Self.grants(message, 3)) { writer in
                try await writer.beginPart(0, header: Array(repeating: 1, count: 24))
                try await writer.appendChunk(partIndex: 0, chunkIndex: 0, ciphertext: [1, 2, 3])
                try await writer.finishPart(0, chunkCount: 1, plaintextSize: 3)
            }

            // What a revoke does: decide from the grants' states inside the transaction.
            @Sendable func revokeAll(_ vault: PostgresVaultDatabase) async throws -> Int {
                try await vault.revoke(messageID: message.id) { transaction in
                    let live = try await transaction.grantStates().filter { $0.revokedAt == nil }
                    let revoked = try await transaction.revokeGrants(
                        live.map(\.grantID), at: Self.now, reason: nil, replacementMessageID: nil)
                    try await transaction.cancelQueuedNotifications(grantIDs: live.map(\.grantID))
                    try await transaction.queue(
                        live.map {
                            VaultFixtures.mail(messageID: message.id, kind: .withdrawal, grantID: $0.grantID, recipient: $0.recipient)
                        })
                    try await transaction.deleteSealedPartsIfUnreachable()
                    return revoked
                }
            }
            async let byA = revokeAll(a)
            async let byB = revokeAll(b)
            let revoked = try await [byA, byB]

            #expect(revoked.sorted() == [0, 3])
            let mails = try await b.outboxMail(messageID: message.id)
            let notices = mails.filter { $0.kind == .withdrawal }
            #expect(notices.count == 3)
            #expect(Set(notices.compactMap(\.grantId)) == Set(stored.compactMap(\.id)))
            #expect(mails.filter { $0.kind == .notification }.allSatisfy { $0.state == .cancelled && $0.sealedData == nil })
            #expect(try await a.sealedPart(messageID: message.id, index: 0) == nil)
            #expect(try await a.sealedChunk(messageID: message.id, part: 0, chunk: 0) == nil)
            let snapshot = try await b.revocationSnapshot(messageID: message.id)
            #expect(snapshot.count == 3 && snapshot.allSatisfy { $0.revokedAt == Self.now && $0.notification == .cancelled })
        }
    }

    @Test("Revoking a message that does not exist says so and writes nothing")
    func revokingUnknownMessage() async throws {
        try await SharedPostgresCluster.vault { vault in
            await #expect(throws: VaultError.messageNotFound("x")) {
                try await vault.revoke(messageID: "0123") { transaction in
                    try await transaction.queue(VaultFixtures.mail(messageID: "0123", kind: .report))
                }
            }
        }
    }
}
