import Foundation
import GRDB
import Testing

@testable import Vault

/// The pieces issue 15 changed under an open: the shared write transaction
/// (`AccessWriteBatcher`), the dates written as GRDB writes them, and the part row read by column.
@Suite("Opens' shared writes")
struct AccessWriteBatcherTests {
    let recording = OpenRecordingTests()

    @Test("storageString writes every date exactly as GRDB's Date.databaseValue does")
    func storageStringMatchesGRDB() throws {
        var generator = SystemRandomNumberGenerator()
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_800_000_000),
            Date(timeIntervalSince1970: 1_800_000_000.999_9), Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
            Date(timeIntervalSince1970: -1.5), Date(timeIntervalSince1970: 253_402_300_799.5),  // 9999-12-31 23:59:59
            Date.distantPast, Date.distantFuture, Date(),
        ]
        for _ in 0..<20_000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...4_000_000_000, using: &generator)))
        }
        for date in dates {
            #expect(VaultDatabase.storageString(date) == String.fromDatabaseValue(date.databaseValue), "\(date.timeIntervalSince1970)")
        }
    }

    @Test("the part row read by column equals its Codable decoding, with and without inline ciphertext")
    func sealedPartByColumn() async throws {
        let (vault, directory) = try recording.vaultWithGrant(maxViews: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        for inline: Data? in [Data([1, 2, 3]), nil] {
            try await vault.writer.write { db in
                try db.execute(sql: "UPDATE sealed_parts SET inline_data = ?", arguments: [inline])
            }
            let (byColumn, byCodable) = try await vault.reader.read { db in
                let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM sealed_parts"))
                return (try VaultDatabase.decodeSealedPart(row), try SealedPartRecord(row: row))
            }
            #expect(byColumn == byCodable)
            #expect(byColumn.inlineData == inline)
        }
    }

    @Test("opens written after a revocation committed count nothing, however many share the transaction")
    func revocationBeforeTheBatch() async throws {
        // Given a grant opened 10 times, then revoked
        let (vault, directory) = try recording.vaultWithGrant(maxViews: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = try await recording.grantID(vault)
        let hash = OpenRecordingTests.tokenHash
        for _ in 0..<10 { #expect(try await vault.recordOpen(grantID: id, tokenHash: hash, maxViews: nil, at: Date())) }
        try await vault.writer.write { db in
            try db.execute(sql: "UPDATE grants SET revoked_at = ?, sealed_share = NULL, wrapped_dek = NULL", arguments: [Date()])
        }

        // When 100 opens and 100 access-log rows are written at once
        let counted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    if index % 2 == 0 {
                        return try await vault.recordOpen(grantID: id, tokenHash: hash, maxViews: nil, at: Date())
                    }
                    try await vault.recordAccess(grantID: id, tokenHash: hash, at: Date(), result: .revoked)
                    return false
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }

        // Then no open counted, and all 100 log rows are stored
        #expect(counted == 0)
        let (views, opened, refused) = try await vault.reader.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT views FROM grants"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM access_events WHERE result = 'opened'"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM access_events WHERE result = 'revoked'")
            )
        }
        #expect(views == 10)
        #expect(opened == 10)
        #expect(refused == 100)
    }
}
