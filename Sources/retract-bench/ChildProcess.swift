import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn` and reaped with `wait4`, so the benchmark
/// gets the child's peak resident memory (`ru_maxrss`).
///
/// Foundation's `Process` reaps its children itself and drops their resource usage, hence
/// this. Standard input is `/dev/null`; standard output and error go to files, which the
/// caller reads (the server prints its port on standard output), or are inherited.
///
/// Linux caveat: `posix_spawn` shares the parent's address space until `exec`, and `exec`
/// folds that address space's high-water mark into the child's `ru_maxrss`. A child of a
/// large process therefore reports at least the parent's peak. `MeasuredLaunch` works
/// around it; `/proc/<pid>/status` `VmHWM` is not affected.
final class ChildProcess {
    /// The child's process id.
    let pid: pid_t
    /// What was run, for messages.
    let commandLine: String

    /// How a child ended.
    struct Exit {
        /// The exit code, or 128 + the signal number when a signal ended it.
        var status: Int32
        /// Peak resident set size over the child's life, KiB (`ru_maxrss`).
        var peakResidentKiB: Int
    }

    /// Starts `executable` (a path, or a name looked up on `PATH` when `searchPath`) with
    /// `arguments` and `environment`.
    init(
        executable: String, arguments: [String], environment: [String: String], standardOutput: String?,
        standardError: String?, searchPath: Bool = false
    ) throws(BenchError) {
        commandLine = ([executable] + arguments).joined(separator: " ")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let standardOutput {
            posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        if let standardError {
            posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] =
            environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status =
            searchPath
            ? posix_spawnp(&pid, executable, &actions, nil, argv, envp)
            : posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard status == 0 else {
            throw BenchError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// Whether the child has not been reaped yet.
    private(set) var isRunning = true

    /// Sends `signal` to the child if it is still running.
    func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits at most `timeout` seconds for the child to end; nil when it is still running.
    /// Calls `tick` about every 10 ms while waiting.
    func wait(timeout: Double, tick: () -> Void = {}) throws(BenchError) -> Exit? {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let exit = try poll() { return exit }
            if clock.now >= deadline { return nil }
            tick()
            usleep(10_000)
        }
    }

    /// Waits for the child to end; when `timeout` passes first, kills it and throws.
    /// Calls `tick` about every 10 ms while waiting.
    func waitForExit(timeout: Double, tick: () -> Void = {}) throws(BenchError) -> Exit {
        if let exit = try wait(timeout: timeout, tick: tick) { return exit }
        signal(SIGKILL)
        _ = try? wait(timeout: 5)
        throw BenchError("\(commandLine) did not finish within \(Int(timeout)) s; killed it")
    }

    /// Reaps the child if it has ended (`wait4` with `WNOHANG`).
    func poll() throws(BenchError) -> Exit? {
        guard isRunning else { throw BenchError("\(commandLine) was already reaped") }
        var status: Int32 = 0
        var usage = rusage()
        let reaped = wait4(pid, &status, WNOHANG, &usage)
        if reaped == 0 { return nil }
        guard reaped == pid else { throw BenchError("wait4 for \(commandLine) failed: \(POSIX.lastError)") }
        isRunning = false
        let signalNumber = status & 0x7f
        let code = signalNumber == 0 ? (status >> 8) & 0xff : 128 + signalNumber
        return Exit(status: code, peakResidentKiB: Int(usage.ru_maxrss))
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

extension ChildProcess {
    /// For a `retract serve` child: polls its standard output (the file `output`) for
    /// `listening on http://host:PORT` and returns the port; fails with its standard error
    /// (`errors`) when it exits first, or after 60 s.
    func waitForListeningPort(output: String, errors: String) throws(BenchError) -> Int {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://") {
                let address = text[range.upperBound...].prefix { !$0.isNewline }
                if let port = address.split(separator: ":").last.flatMap({ Int($0) }) { return port }
            }
            if let exit = try self.poll() {
                let message = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
                throw BenchError("retract serve exited with \(exit.status) before listening: \(message)")
            }
            usleep(20_000)
        }
        throw BenchError("retract serve printed no 'listening on' line within 60 s")
    }
}
