import Foundation

/// RetractCore's parsers of received mail as the fuzz targets (Fuzz/) and their corpus
/// replay (Tests/FuzzReplayTests) call them: bytes in, nothing out, never a trap.
///
/// `package` so that only RetractFuzzTargets, in this package, reaches the internal parsers
/// (`IncomingMailHeaders.parse`, `AttachmentExtractor`, `PassThroughCopy.parse`).
package enum RetractCoreFuzzEntry {
    /// A message's header block through `IncomingMailHeaders.parse`.
    package static func incomingHeaders(_ bytes: [UInt8]) {
        let headers = IncomingMailHeaders.parse(bytes)
        _ = headers.messageID
        _ = IncomingMailHeaders.messageIDs(String(decoding: bytes, as: UTF8.self))
    }

    /// A whole message, written to a file in `directory`, through `AttachmentExtractor` (its
    /// attachments into the same directory, which is emptied afterwards).
    package static func attachments(_ bytes: [UInt8], directory: URL) {
        let file = directory.appendingPathComponent("message.eml")
        let parts = directory.appendingPathComponent("parts", isDirectory: true)
        try? FileManager.default.createDirectory(at: parts, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: parts)
            try? FileManager.default.removeItem(at: file)
        }
        guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes)) else { return }
        let extraction = AttachmentExtractor.extractWithBodies(from: file, into: parts, limit: 20)
        precondition(extraction.parts.count <= 20, "the extractor went past its limit")
    }

    /// An opened outbox row through `PassThroughCopy.parse` (a throw is a fine answer).
    package static func passThroughReference(_ bytes: [UInt8]) {
        _ = try? PassThroughCopy.parse(bytes)
    }
}
