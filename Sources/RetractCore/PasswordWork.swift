import Dispatch
import Sodium

/// Runs Argon2id (≈0.1 s and 64 MiB each) one at a time on a queue of its own.
///
/// Off the Swift concurrency pool, so a sign-in does not stall the tasks serving other
/// requests on a small machine; one at a time, so a burst of sign-ins queues up instead of
/// asking for 64 MiB per request at once.
enum PasswordWork {
    private static let queue = DispatchQueue(label: "retract.password-work", qos: .userInitiated)

    /// Runs `body` (which verifies a password) on the queue, after every earlier call ended.
    ///
    /// A sign-in checks its rate limits, verifies and records a failure inside one call,
    /// so concurrent guesses cannot all pass the limit check before any of them is counted.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
