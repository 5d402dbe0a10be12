import Foundation
import RetractTestSupport

/// Runs the built `retract` executable the way a user does, in a scratch directory.
struct RetractBinary {
    /// The executable beside the test bundle (`.build/debug/retract`), or `RETRACT_BINARY`.
    static var path: String {
        if let override = ProcessInfo.processInfo.environment["RETRACT_BINARY"] { return override }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("retract").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/retract").path
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    let workingDirectory: URL
    var environment: [String: String] = [:]
    /// Another executable to run instead of the built one (an installed copy).
    var executable: String? = nil

    /// Runs `retract arguments…` to completion.
    @discardableResult
    func run(_ arguments: [String]) throws -> Result {
        let process = configured(arguments)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.runSafely()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Starts `retract serve --port 0` and waits for the port it prints.
    func startServer(extra: [String] = [], standardError: FileHandle? = nil) throws -> (Process, Int) {
        let process = configured(["serve", "--host", "127.0.0.1", "--port", "0"] + extra)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = standardError ?? FileHandle.nullDevice
        try process.runSafely()
        var buffer = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            if let range = buffer.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let port = Int(buffer[range].split(separator: ":").last ?? "") ?? 0
                return (process, port)
            }
        }
        process.terminate()
        throw EndToEndError("retract serve did not start: \(buffer)")
    }

    private func configured(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? Self.path)
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RETRACT_") }
        env.merge(environment) { _, new in new }
        process.environment = env
        return process
    }
}

struct EndToEndError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
