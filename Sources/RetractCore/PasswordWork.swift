import Dispatch
import Synchronization

/// Runs Argon2id (≈0.1 s and 64 MiB each) at most `lanes` at a time, off the Swift
/// concurrency pool.
///
/// Off the pool, so a sign-in does not stall the tasks serving other requests on a small
/// machine; two at a time, so one slow verification does not hold up every other sign-in
/// while a burst still asks for at most 128 MiB at once; at most `maximumWaiting` waiting,
/// so a flood of sign-ins is answered at once (busy) instead of queueing for minutes. Rate
/// limits are checked before a call gets here (`RetractService.signIn`): a limited attempt
/// costs no hash and no place in the line.
///
/// One per `RetractService` (not a process-wide singleton), so two services in one process,
/// such as the tests running in parallel, do not take each other's lanes.
final class PasswordWork: Sendable {
    /// Verifications that run at once.
    let lanes: Int
    /// Calls that may wait for a lane; one more is refused.
    let maximumWaiting: Int

    private let queue = DispatchQueue(
        label: "retract.password-work", qos: .userInitiated, attributes: .concurrent)
    private let admission = Mutex(Admission())

    /// Lines of `lanes` at once and at most `maximumWaiting` waiting (defaults 2 and 32).
    init(lanes: Int = 2, maximumWaiting: Int = 32) {
        self.lanes = lanes
        self.maximumWaiting = maximumWaiting
    }

    private struct Admission {
        var running = 0
        var waiting: [CheckedContinuation<Bool, Never>] = []
    }

    /// Runs `body` (which verifies a password) on a free lane, after the calls waiting
    /// before it; nil, without running it, when `maximumWaiting` calls already wait.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        guard await admit() else { return nil }
        let result = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
        release()
        return result
    }

    /// Takes a lane, waiting in line for one; false when the line is full.
    private func admit() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let admitted: Bool? = admission.withLock { [lanes, maximumWaiting] state in
                if state.running < lanes {
                    state.running += 1
                    return true
                }
                guard state.waiting.count < maximumWaiting else { return false }
                state.waiting.append(continuation)
                return nil
            }
            if let admitted { continuation.resume(returning: admitted) }
        }
    }

    /// Hands the lane to the first waiting call, or frees it.
    private func release() {
        let next = admission.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: true)
    }
}
