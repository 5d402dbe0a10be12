import Foundation
import RetractTestSupport
import Testing

/// Issue 16, item 5: `retract --version` names the build.
@Suite("End to end: retract --version")
struct VersionEndToEndTests {
    @Test("retract --version prints the git description of the checkout it was built from")
    func versionIsTheGitDescription() throws {
        // Given the checkout's own description (the tests run in the package root)
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "describe", "--always", "--dirty", "--tags"]
        let out = Pipe()
        git.standardOutput = out
        try git.runSafely()
        let described = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        git.waitUntilExit()
        try #require(git.terminationStatus == 0 && !described.isEmpty)

        // When the built binary is asked
        let root = FileManager.default.temporaryDirectory
        let version = try RetractBinary(workingDirectory: root).run(["--version"])

        // Then it answers that description, on one line, and succeeds
        #expect(version.status == 0)
        #expect(version.stdout == "retract \(described)\n")
    }
}
