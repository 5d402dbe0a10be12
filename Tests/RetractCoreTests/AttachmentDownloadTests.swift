import Foundation
import RetractTestSupport
import Seal
import Testing

@testable import RetractCore
@testable import Vault

/// An attachment download is an open: it is counted and limited like one, except inside the
/// reading window of a counted view; and it ends when the grant is revoked.
@Suite("Attachment downloads")
struct AttachmentDownloadTests {
    /// A message to bob with `count` small attachments, sent on a fresh bench.
    func sent(attachments count: Int = 1, size: Int = 1000, maxViews: Int? = nil) async throws -> (
        TestBench, SendReceipt, Link
    ) {
        let bench = try TestBench()
        let files = try (0..<count).map { try bench.makeFile(named: "file-\($0).bin", size: size, seed: UInt64($0)) }
        let receipt = try await bench.service.send(
            Draft(
                from: "alice@corp.test", to: ["bob@partner.test"], subject: "files", body: "see attached",
                attachments: files, maxViews: maxViews))
        return (bench, receipt, try Link.parse(receipt.recipients[0].link))
    }

    /// Downloads attachment `index` to the end; returns its bytes.
    @discardableResult
    func download(_ bench: TestBench, _ link: Link, _ index: Int = 1) async throws -> [UInt8] {
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: index)
        var bytes: [UInt8] = []
        while let chunk = try await download.nextChunk() { bytes += chunk }
        return bytes
    }

    func views(_ bench: TestBench, _ receipt: SendReceipt) throws -> Int {
        try #require(try bench.service.vault.grants(messageID: receipt.messageID).first).views
    }

    @Test("a download without an open is the first open: the recall report says revoked after open")
    func downloadIsAnOpen() async throws {
        // Given a message bob has never opened
        let (bench, receipt, link) = try await sent()

        // When bob only downloads the attachment, and the message is then revoked
        try await download(bench, link)
        let report = try await bench.service.revoke(RevokeRequest(messageID: receipt.messageID))

        // Then the download counted as a view and the report tells the truth
        #expect(try views(bench, receipt) == 1)
        #expect(report.recipients.first?.outcome == "revoked_after_open")
        #expect(report.recipients.first?.openedAt == bench.clock.now)
    }

    @Test("an open and then a download of each of three attachments use one view of a max-views-2 link")
    func downloadsAfterAnOpenArePartOfItsView() async throws {
        // Given a link allowed two views, with three attachments
        let (bench, receipt, link) = try await sent(attachments: 3, maxViews: 2)

        // When bob opens it and downloads all three attachments
        _ = try await bench.service.open(token: link.token, linkKey: link.linkKey)
        for index in 1...3 { try await download(bench, link, index) }

        // Then one view is used, so he can open it once more, and only once
        #expect(try views(bench, receipt) == 1)
        _ = try await bench.service.open(token: link.token, linkKey: link.linkKey)
        await #expect(throws: OpenFailure.viewsExhausted) {
            try await bench.service.open(token: link.token, linkKey: link.linkKey)
        }
    }

    @Test("a download after the reading window counts a view of its own and is refused once the views are used up")
    func downloadOutsideTheWindowCounts() async throws {
        // Given a link allowed two views, opened once
        let (bench, receipt, link) = try await sent(maxViews: 2)
        _ = try await bench.service.open(token: link.token, linkKey: link.linkKey)

        // When bob downloads the attachment after the reading window of that open
        bench.clock.advance(RetractService.attachmentWindow + 1)
        try await download(bench, link)

        // Then it used the second view; the downloads in its own window still work, and
        // once that window is over neither a download nor an open gets through
        #expect(try views(bench, receipt) == 2)
        bench.clock.advance(RetractService.attachmentWindow - 60)
        try await download(bench, link)
        #expect(try views(bench, receipt) == 2)
        bench.clock.advance(61)
        await #expect(throws: OpenFailure.viewsExhausted) { _ = try await download(bench, link) }
        await #expect(throws: OpenFailure.viewsExhausted) {
            try await bench.service.open(token: link.token, linkKey: link.linkKey)
        }
    }

    @Test("a download that began before a revocation stops within one batch of chunks and says revoked")
    func revocationStopsARunningDownload() async throws {
        // Given an attachment of three read batches, whose download has begun
        let size = SealFormat.chunkSize * AttachmentDownload.batchChunks * 3 + 5
        let (bench, receipt, link) = try await sent(size: size)
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        _ = try await download.nextChunk()

        // When the message is revoked while it runs
        _ = try await bench.service.revoke(RevokeRequest(messageID: receipt.messageID, reason: "wrong file"))

        // Then at most the rest of the current batch comes out, then the download fails as revoked
        var delivered = 0
        var failure: OpenFailure?
        do {
            while try await download.nextChunk() != nil { delivered += 1 }
        } catch {
            failure = error
        }
        #expect(delivered < AttachmentDownload.batchChunks)
        guard case .revoked(_, let reason, _) = failure else {
            Issue.record("expected the download to fail as revoked, got \(String(describing: failure))")
            return
        }
        #expect(reason == "wrong file")
        await #expect(throws: OpenFailure.damaged) { try await download.nextChunk() }
    }
}
