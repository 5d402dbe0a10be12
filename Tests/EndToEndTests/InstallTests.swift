import Foundation
import RetractTestSupport
import Testing

/// Issue 16, item 4: `make install` and the systemd unit.
@Suite("make install and the systemd unit", .serialized)
struct InstallTests {
    /// The package root (where `swift test` runs, with the Makefile).
    static let packageRoot = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)

    struct Output {
        var status: Int32
        var text: String
    }

    /// Runs `tool arguments…` in the package root, stdout and stderr together.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.currentDirectoryURL = packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.runSafely()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
    }

    @Test("make install puts a retract in PREFIX/bin that finds its resources: it initialises, serves the web app, and the unit passes systemd-analyze verify")
    func installAndVerify() async throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("retract-install-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: prefix) }
        // When the build under test is installed under a scratch prefix (`make install` is
        // `swift build` and then this step; a nested build would wait for this `swift test`)
        let built = URL(fileURLWithPath: RetractBinary.path).deletingLastPathComponent().path
        let made = try Self.run(
            "make", ["--no-print-directory", "install-files", "BIN_PATH=\(built)", "PREFIX=\(prefix.path)"])
        #expect(made.status == 0, "\(made.text.suffix(2000))")
        let binary = prefix.appendingPathComponent("bin/retract")
        #expect(FileManager.default.isExecutableFile(atPath: binary.path))
        #expect(
            FileManager.default.fileExists(
                atPath: prefix.appendingPathComponent("lib/retract/Retract_RetractServer.resources").path))

        // Then the installed command runs from anywhere and serves pages from its resources
        var cli = RetractBinary(workingDirectory: prefix, executable: binary.path)
        cli.environment = [
            "RETRACT_DATA_DIR": prefix.appendingPathComponent("state/data").path,
            "RETRACT_KEYS_DIR": prefix.appendingPathComponent("state/keys").path,
        ]
        #expect(try cli.run(["init"]).status == 0)
        let (server, port) = try cli.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let (status, body, _) = try await HTTP.get("http://127.0.0.1:\(port)/app/sign-in")
        #expect(status == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("<form"))

        // And the installed unit names that binary and passes systemd-analyze verify
        let unit = prefix.appendingPathComponent("lib/systemd/system/retract.service")
        let text = try String(contentsOf: unit, encoding: .utf8)
        #expect(text.contains("ExecStart=\(prefix.path)/bin/retract serve"))
        for setting in [
            "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "StateDirectory=retract",
            "CapabilityBoundingSet=\n", "User=retract",
        ] {
            #expect(text.contains(setting), "the unit lacks \(setting)")
        }
        let verified = try Self.run("systemd-analyze", ["verify", unit.path])
        #expect(verified.status == 0, "\(verified.text)")
        #expect(!verified.text.contains("retract.service:"), "systemd-analyze found: \(verified.text)")
    }

    @Test("make install into a prefix it cannot write fails with one line that names the prefix and what to do")
    func installWithoutPermission() throws {
        let built = URL(fileURLWithPath: RetractBinary.path).deletingLastPathComponent().path
        let made = try Self.run(
            "make", ["--no-print-directory", "-s", "install-files", "BIN_PATH=\(built)", "PREFIX=/proc/retract-install"])
        #expect(made.status != 0)
        // make's own "make: ***" (or "make[1]: ***" when make test runs this) is not ours
        let lines = made.text.split(separator: "\n").filter { !$0.hasPrefix("make:") && !$0.hasPrefix("make[") }
        #expect(lines.count == 1, "\(made.text)")
        #expect(made.text.contains("cannot write to /proc/retract-install; run as root, or choose PREFIX=DIR"))
    }

    @Test("make deb-files packages the build: dpkg -i installs it, creates the retract user and its 0700 state directory, and the installed retract --version answers; dpkg --purge keeps the vault")
    func debianPackage() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("retract-deb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let userExisted = try Self.run("getent", ["passwd", "retract"]).status == 0
        let stateExisted = FileManager.default.fileExists(atPath: "/var/lib/retract")
        defer {
            _ = try? Self.run("dpkg", ["--purge", "retract"])
            if !userExisted { _ = try? Self.run("userdel", ["retract"]) }
            if !stateExisted { try? FileManager.default.removeItem(atPath: "/var/lib/retract") }
        }
        // Given a package made from the build under test
        let built = URL(fileURLWithPath: RetractBinary.path).deletingLastPathComponent().path
        let package = scratch.appendingPathComponent("retract.deb")
        let made = try Self.run(
            "make",
            [
                "--no-print-directory", "deb-files", "BIN_PATH=\(built)",
                "DEB_STAGE=\(scratch.appendingPathComponent("stage").path)", "DEB_OUT=\(package.path)", "DEB_FLAGS=-Zgzip -z1",
            ])
        #expect(made.status == 0, "\(made.text.suffix(2000))")
        let fields = try Self.run("dpkg-deb", ["--field", package.path, "Package", "Architecture", "Depends"])
        #expect(fields.text.contains("Package: retract"))
        #expect(fields.text.contains("libsodium23"))

        // When dpkg installs it
        let installed = try Self.run("dpkg", ["-i", package.path])
        try #require(installed.status == 0, "\(installed.text)")

        // Then the service user and its private state directory exist
        let user = try Self.run("getent", ["passwd", "retract"])
        #expect(user.status == 0)
        #expect(user.text.contains(":/var/lib/retract:/usr/sbin/nologin"))
        let state = try FileManager.default.attributesOfItem(atPath: "/var/lib/retract")
        #expect((state[.posixPermissions] as? Int) == 0o700)
        #expect((state[.ownerAccountName] as? String) == "retract")
        // And the installed command and unit are where the unit says
        let version = try Self.run("/usr/bin/retract", ["--version"])
        #expect(version.status == 0)
        #expect(version.text.hasPrefix("retract "))
        let unit = try String(contentsOfFile: "/lib/systemd/system/retract.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/retract serve"))

        // And purging the package removes the program but keeps the vault's directory
        let purged = try Self.run("dpkg", ["--purge", "retract"])
        #expect(purged.status == 0, "\(purged.text)")
        #expect(!FileManager.default.fileExists(atPath: "/usr/bin/retract"))
        #expect(FileManager.default.fileExists(atPath: "/var/lib/retract"))
    }
}
