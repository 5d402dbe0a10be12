import Foundation
import RetractTestSupport
import Testing

/// Issue 17, item 2: the API against its own contract. Schemathesis (PyPI, pinned in
/// Tests/Schemathesis/requirements.txt) generates requests from docs/openapi.yaml and checks
/// every answer: no 5xx, status codes, bodies and content types as declared, valid data
/// accepted, invalid data refused, created messages found again.
@Suite("End to end: Schemathesis against docs/openapi.yaml", .serialized)
struct APISchemathesisEndToEndTests {
    @Test("every API operation passes Schemathesis' default checks on a live retract serve (seed 1, 50 examples each)")
    func contractHolds() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let package = FileManager.default.currentDirectoryPath
        // Given a live server and its first sender's API token
        var cli = RetractBinary(workingDirectory: root)
        cli.environment = ["RETRACT_ADMIN": "alice@corp.test"]
        let initialised = try cli.run(["init"])
        let token = try #require(
            initialised.stdout.split(separator: "\n").first { $0.contains("API token: ") }
                .map { String($0.components(separatedBy: "API token: ").last ?? "").trimmingCharacters(in: .whitespaces) })
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }

        // When Schemathesis runs every operation of the contract against it
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.currentDirectoryURL = root
        process.arguments = [
            "python3", "-m", "schemathesis.cli", "--config-file", "\(package)/Tests/Schemathesis/schemathesis.toml",
            "run", "\(package)/docs/openapi.yaml", "--url", "http://127.0.0.1:\(port)/api/v1",
            "-H", "Authorization: Bearer \(token)", "--seed", "1", "--max-examples", "50", "--no-color",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.runSafely()
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        // Then it found nothing, and it did test every operation
        #expect(process.terminationStatus == 0, "\(report.suffix(6000))")
        #expect(report.contains("Tested: 5"), "\(report.suffix(2000))")
        #expect(!report.contains(token))
    }
}
