import Foundation
import GRDB
import Testing

@testable import Vault

/// The one-transaction read an open starts with (`VaultDatabase.openLookup`) answers exactly
/// what the separate reads it replaced answer, and the part file path is what it always was.
@Suite("Open lookup in one read")
struct OpenLookupTests {
    let recording = OpenRecordingTests()
    static let since = Date(timeIntervalSince1970: 1_000)

    @Test("openLookup gives the grant, both failure counts and part 0 that the separate reads give")
    func matchesSeparateReads() async throws {
        // Given: a grant with two wrong keys logged and a client with three failed opens
        let (vault, directory) = try recording.vaultWithGrant(maxViews: 3)
        defer { try? FileManager.default.removeItem(at: directory) }
        let hash = OpenRecordingTests.tokenHash
        for _ in 0..<2 {
            try await vault.recordAccess(grantID: nil, tokenHash: hash, at: Date(), result: .invalidKey)
        }
        try await vault.recordAccess(grantID: nil, tokenHash: hash, at: Date(), result: .opened)
        for _ in 0..<3 {
            try vault.recordRateLimitEvent(scope: VaultDatabase.openClientScope, subject: "192.0.2.7", at: Date(), pruneBefore: Self.since)
        }

        // When
        let read = try await vault.openLookup(
            tokenHash: hash, failuresSince: Self.since, client: "192.0.2.7", clientSince: Self.since, envelope: true)

        // Then
        let grant = try #require(try await vault.grant(tokenHash: hash))
        #expect(read.grant?.grant == grant.grant)
        #expect(read.grant?.message == grant.message)
        #expect(read.failedAttempts == 2)
        #expect(read.failedAttempts == (try await vault.failedAttempts(tokenHash: hash, since: Self.since)))
        #expect(read.clientFailures == 3)
        #expect(read.clientFailures == (try vault.rateLimitEvents(scope: VaultDatabase.openClientScope, subject: "192.0.2.7", since: Self.since).count))
        let part = try await vault.sealedPart(messageID: OpenRecordingTests.messageID, index: 0)
        #expect(read.envelopePart != nil)
        #expect(read.envelopePart == part)
    }

    @Test("an unknown token reads no grant and no part, but still its failure count; no client counts 0")
    func unknownToken() async throws {
        // Given
        let (vault, directory) = try recording.vaultWithGrant(maxViews: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let unknown = [UInt8](repeating: 6, count: 32)
        try await vault.recordAccess(grantID: nil, tokenHash: unknown, at: Date(), result: .invalidKey)
        try vault.recordRateLimitEvent(scope: VaultDatabase.openClientScope, subject: "192.0.2.7", at: Date(), pruneBefore: Self.since)

        // When
        let read = try await vault.openLookup(
            tokenHash: unknown, failuresSince: Self.since, client: nil, clientSince: Self.since, envelope: true)

        // Then
        #expect(read.grant == nil)
        #expect(read.envelopePart == nil)
        #expect(read.failedAttempts == 1)
        #expect(read.clientFailures == 0)
    }

    @Test("without envelope the part is not read")
    func withoutEnvelope() async throws {
        let (vault, directory) = try recording.vaultWithGrant(maxViews: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let read = try await vault.openLookup(
            tokenHash: OpenRecordingTests.tokenHash, failuresSince: Self.since, client: "c", clientSince: Self.since,
            envelope: false)
        #expect(read.grant != nil)
        #expect(read.envelopePart == nil)
    }

    @Test("a part's path is the directory's path joined with its file name, and bad ids are refused")
    func partPath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retract-path-\(UUID().uuidString)")
        let store = try SealedPartStore(directory: directory, isTemporary: true)
        let expected = directory.appendingPathComponent("\(OpenRecordingTests.messageID).3").path
        #expect(try store.path(messageID: OpenRecordingTests.messageID, part: 3) == expected)
        #expect(throws: VaultError.self) { try store.path(messageID: "../etc", part: 0) }
        #expect(throws: VaultError.self) { try store.path(messageID: "é", part: 0) }
        #expect(throws: VaultError.self) { try store.path(messageID: "", part: 0) }
        #expect(throws: VaultError.self) { try store.path(messageID: "ab", part: -1) }
    }
}
