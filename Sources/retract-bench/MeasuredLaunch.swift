import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The `--measure-child RESULT PROGRAM ARGS…` sub-mode: runs PROGRAM as a child of a fresh,
/// small `retract-bench` process and writes the child's exact peak RSS to RESULT.
///
/// Why a middleman: `exec` folds the high-water mark of the address space it replaces into
/// `ru_maxrss`, and `posix_spawn` children start in their parent's address space, so a
/// child spawned by the benchmark (hundreds of MiB after the throughput runs) would report
/// the benchmark's peak. This process is spawned the same way, but its own new address
/// space stays small, so its child's `ru_maxrss` is the child's own peak whenever that
/// exceeds this process's (a floor written to RESULT as well, and checked by the caller).
///
/// RESULT holds one line: `<exit status> <child peak KiB> <launcher peak KiB>`.
enum MeasuredLaunch {
    /// The sub-mode's flag, first argument when present.
    static let flag = "--measure-child"

    /// Runs the sub-mode; returns the process exit status (the child's, or 70 on failure).
    static func main(_ arguments: [String]) -> Int32 {
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(Data("retract-bench: error: \(flag) RESULT PROGRAM [ARGS…]\n".utf8))
            return 64
        }
        let resultPath = arguments[0]
        do {
            let child = try ChildProcess(
                executable: arguments[1], arguments: Array(arguments.dropFirst(2)),
                environment: ProcessInfo.processInfo.environment, standardOutput: nil, standardError: nil)
            let floor = POSIX.procStatusKiB(pid: getpid(), field: "VmHWM") ?? 0
            let exit = try child.waitForExit(timeout: 3600)
            let line = "\(exit.status) \(exit.peakResidentKiB) \(floor)\n"
            try line.write(toFile: resultPath, atomically: true, encoding: .utf8)
            return exit.status
        } catch {
            FileHandle.standardError.write(Data("retract-bench: error: \(error)\n".utf8))
            return 70
        }
    }

    /// Reads RESULT: the child's exit status, its peak KiB and the launcher's own peak KiB.
    static func readResult(_ path: String) throws(BenchError) -> (status: Int32, peakKiB: Int, floorKiB: Int) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw BenchError("the measuring launcher wrote no result to \(path)")
        }
        let fields = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard fields.count == 3 else { throw BenchError("the measuring launcher wrote \(text.debugDescription)") }
        return (Int32(fields[0]), fields[1], fields[2])
    }
}
