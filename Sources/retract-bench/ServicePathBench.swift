import Foundation
import RetractCore
import Seal

/// Retract's whole path in process: `RetractService.send` of a draft with the attachment
/// into a fresh data directory (vault on disk, SQLite WAL, one transaction, whose commit
/// runs SQLite's automatic checkpoint with its fsyncs), then `downloadAttachment` and a
/// `nextChunk()` loop.
///
/// Each run starts from an empty data directory and removes it afterwards, so no run reads
/// another's pages. The send includes everything `retract send` does besides parsing
/// arguments: pre-send checks, sealing, the SQLite writes and the checkpoint, and writing
/// the notification `.eml`.
struct ServicePathBench {
    /// The attachment.
    let file: URL
    /// Its content, to check the download against.
    let pattern: PatternFile
    /// A folder for the data directories of the runs.
    let workDirectory: URL

    /// What one run left on disk, for the report.
    struct Footprint {
        /// `vault.sqlite` after the send.
        var databaseBytes: Int64
        /// `vault.sqlite-wal` after the send.
        var walBytes: Int64
    }

    /// One send and one download in `service-run-<index>`, removed afterwards; the first
    /// run checks every downloaded byte. Returns their seconds and the vault's files.
    func runOnce(index: Int) async throws -> (send: Double, open: Double, footprint: Footprint) {
        let directory = workDirectory.appendingPathComponent("service-run-\(index)")
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await oneRun(in: directory, size: POSIX.fileSize(file.path), verify: index == 0)
    }

    /// One send and one download; with `verify`, every downloaded byte is compared with the
    /// pattern (a memcmp, about 3% of the download time), otherwise only the count is.
    private func oneRun(in directory: URL, size: Int64, verify: Bool) async throws -> (Double, Double, Footprint) {
        let configuration = RetractConfiguration(
            dataDirectory: directory.appendingPathComponent("data"),
            keysDirectory: directory.appendingPathComponent("keys"))
        try RetractService.initialize(configuration)
        let service = try RetractService.open(configuration)
        let draft = Draft(
            from: "Bench Sender <sender@example.com>", to: ["reader@example.net"], subject: "retract-bench",
            body: "A \(size)-byte attachment.", attachments: [file])

        let (receipt, sendSeconds) = try await Stopwatch.measureAsync { try await service.send(draft) }
        let databasePath = configuration.dataDirectory.appendingPathComponent("vault.sqlite").path
        let footprint = Footprint(
            databaseBytes: POSIX.fileSize(databasePath), walBytes: POSIX.fileSize(databasePath + "-wal"))
        guard let linkText = receipt.recipients.first?.link else { throw BenchError("send returned no recipient") }
        let link = try Link.parse(linkText)

        let (opened, openSeconds) = try await Stopwatch.measureAsync { () async throws -> Int64 in
            let download = try await service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
            var offset: Int64 = 0
            while let chunk = try await download.nextChunk() {
                guard !verify || chunk.withUnsafeBytes({ pattern.matches($0, at: offset) }) else {
                    throw BenchError("downloadAttachment returned wrong bytes at offset \(offset)")
                }
                offset += Int64(chunk.count)
            }
            return offset
        }
        guard opened == size else { throw BenchError("downloadAttachment returned \(opened) of \(size) bytes") }
        return (sendSeconds, openSeconds, footprint)
    }
}
