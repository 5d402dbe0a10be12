import Foundation
import RetractCore

/// The gateway's recall matcher as the fuzz target (Fuzz/) and its corpus replay
/// (Tests/FuzzReplayTests) call it: bytes in, nothing out, never a trap.
///
/// `package` so that only RetractFuzzTargets, in this package, reaches the internal
/// `TNEFMessageClass` and `RecallRequest.tnefPayload`.
package enum GatewayFuzzEntry {
    /// A received message, written to a file in `directory`, through
    /// `RecallRequest.recognise` as the gateway calls it, and its bytes through the TNEF
    /// payload scan and `TNEFMessageClass` directly.
    package static func recallRequest(_ bytes: [UInt8], directory: URL) {
        _ = TNEFMessageClass.read(bytes)
        if let tnef = RecallRequest.tnefPayload(bytes) { _ = TNEFMessageClass.read(tnef) }
        let file = directory.appendingPathComponent("recall.eml")
        defer { try? FileManager.default.removeItem(at: file) }
        guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes)) else { return }
        guard let headers = try? IncomingMailHeaders.read(file: file) else { return }
        _ = RecallRequest.recognise(headers: headers, file: file, prefixes: ["Recall:", "Rappel :", "撤回:"])
    }
}
