import Foundation
import PostgresVault
import Testing
import Vault

/// Key rotation's vault operations and pass-through copies on PostgreSQL.
@Suite("PostgreSQL vault: key rotation and pass-through copies", .sharedPostgresCluster)
struct PostgresKeyRotationTests {
    static let now = VaultFixtures.now

    @Test("Usage per key, values under other keys in pages, and compare-and-swap replacement: two nodes re-seal each value once")
    func rotationOperations() async throws {
        try await SharedPostgresCluster.twoNodes { a, b in
            var stored: [GrantRecord] = []
            for _ in 0..<3 {
                let message = VaultFixtures.message()
                let grants = (0..<4).map { NewGrant(grant: VaultFixtures.grant(messageID: message.id, recipient: "r\($0)@example.org"), notification: nil) }
                stored += try await a.storeSealedMessage(message, grants: grants, mail: [VaultFixtures.mail(messageID: message.id, kind: .report)]) { _ in }
            }
            #expect(try await b.keyUsage() == [KeyUsage(kid: "k1", shares: 12, subjects: 3, outboxData: 3)])

            // A revoked grant holds no share: it is neither counted nor listed.
            try await a.revoke(messageID: stored[0].messageId) { transaction in
                try await transaction.revokeGrant(try #require(stored[0].id), at: Self.now, reason: nil, replacementMessageID: nil)
            }
            let firstPage = try await b.sealedValues(.share, notUnder: "k2", after: nil, limit: 5)
            let rest = try await b.sealedValues(.share, notUnder: "k2", after: firstPage.last?.rowID, limit: 100)
            #expect(firstPage.count == 5 && rest.count == 6)
            let shares = firstPage + rest
            #expect(shares.map(\.rowID) == stored.dropFirst().map { String($0.id!) })
            #expect(shares.first?.tokenHash == stored[1].tokenHash)
            #expect(try await a.sealedValues(.subject, notUnder: "k2", after: nil, limit: 10).count == 3)
            #expect(try await a.sealedValues(.outboxData, notUnder: "k1", after: nil, limit: 10).isEmpty)

            // Both nodes re-seal every share at once: each row is written once.
            let replacements = shares.map { SealedValue.Replacement(original: $0, kid: "k2", sealed: Data([42])) }
            async let byA = a.replaceSealedValues(replacements)
            async let byB = b.replaceSealedValues(replacements)
            let written = try await [byA, byB]
            #expect(written.reduce(0, +) == 11)
            #expect(try await a.keyUsage() == [
                KeyUsage(kid: "k1", shares: 0, subjects: 3, outboxData: 3), KeyUsage(kid: "k2", shares: 11),
            ])
            #expect(try await b.sealedValues(.share, notUnder: "k2", after: nil, limit: 100).isEmpty)
        }
    }

    @Test("A pass-through copy stays while its mail may go out, and goes with its chunks once it is done")
    func passThroughCopies() async throws {
        try await SharedPostgresCluster.vault { vault in
            let message = VaultFixtures.message(partCount: 2)
            let copy = VaultFixtures.mail(messageID: message.id, kind: .passthrough, recipient: "colleague@example.org")
            try await vault.storeSealedMessage(message, grants: [], mail: [copy]) { writer in
                for part in 0...1 {
                    try await writer.beginPart(part, header: Array(repeating: 1, count: 24))
                    try await writer.appendChunk(partIndex: part, chunkIndex: 0, ciphertext: [UInt8(part)])
                    try await writer.finishPart(part, chunkCount: 1, plaintextSize: 1)
                }
            }
            #expect(try await vault.removeFinishedPassThroughCopies() == 0)
            #expect(try await vault.removeFinishedPassThroughCopies(messageIDs: []) == 0)
            try await vault.markDelivered(mailID: copy.id, at: Self.now)
            #expect(try await vault.removeFinishedPassThroughCopies(messageIDs: ["other"]) == 0)
            #expect(try await vault.removeFinishedPassThroughCopies(messageIDs: [message.id]) == 1)
            #expect(try await vault.sealedPartRecord(messageID: message.id, index: 1) == nil)
            #expect(try await vault.sealedChunk(messageID: message.id, part: 1, chunk: 0) == nil)
            #expect(try await vault.sealedChunk(messageID: message.id, part: 0, chunk: 0) == [0])
        }
    }
}
