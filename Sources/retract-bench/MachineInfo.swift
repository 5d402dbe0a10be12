import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the figures were measured on and from which commit, for docs/performance.md.
struct MachineInfo {
    /// Online processors (`nproc`).
    var processors: Int
    /// `model name` from /proc/cpuinfo.
    var cpuModel: String
    /// Physical memory, bytes.
    var memoryBytes: UInt64
    /// `PRETTY_NAME` from /etc/os-release and the kernel release.
    var system: String
    /// `swift --version`, first line.
    var swiftVersion: String
    /// `pkg-config --modversion` of libsodium and sqlite3.
    var libsodiumVersion: String
    var sqliteVersion: String
    /// Short commit hash, with a note when the working tree has uncommitted changes.
    var commit: String
    /// The start of the run, in the format of `date -u`.
    var date: String

    /// Collects everything; a tool that is missing leaves `unknown` in its place.
    static func collect(scratch: URL) -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpuModel =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        let prettyName =
            osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            ?? "Linux"
        var names = utsname()
        uname(&names)
        let kernel = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }

        func capture(_ arguments: [String]) -> String? {
            let out = scratch.appendingPathComponent("capture.out").path
            let err = scratch.appendingPathComponent("capture.err").path
            guard
                let child = try? ChildProcess(
                    executable: arguments[0], arguments: Array(arguments.dropFirst()),
                    environment: ProcessInfo.processInfo.environment, standardOutput: out, standardError: err,
                    searchPath: true),
                let exit = try? child.waitForExit(timeout: 60), exit.status == 0
            else { return nil }
            return (try? String(contentsOfFile: out, encoding: .utf8))?
                .split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }

        var commit = capture(["git", "rev-parse", "--short", "HEAD"]) ?? "unknown (not a git checkout)"
        if let changes = capture(["git", "status", "--porcelain", "--untracked-files=no"]), !changes.isEmpty {
            commit += " (with uncommitted changes)"
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM d HH:mm:ss 'UTC' yyyy"
        return MachineInfo(
            processors: ProcessInfo.processInfo.activeProcessorCount, cpuModel: cpuModel,
            memoryBytes: ProcessInfo.processInfo.physicalMemory, system: "\(prettyName), kernel \(kernel)",
            swiftVersion: capture(["swift", "--version"]) ?? "unknown",
            libsodiumVersion: capture(["pkg-config", "--modversion", "libsodium"]) ?? "unknown",
            sqliteVersion: capture(["pkg-config", "--modversion", "sqlite3"]) ?? "unknown",
            commit: commit, date: formatter.string(from: Date()))
    }
}
