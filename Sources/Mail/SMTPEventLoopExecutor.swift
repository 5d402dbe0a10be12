import NIOCore

/// Runs a task's jobs on the SMTP connection's event loop.
///
/// An SMTP session is a long run of short request/reply exchanges. Without a preference every
/// exchange crosses threads twice (the reply arrives on the event loop, the conversation runs
/// in the global pool, the next write goes back to the loop), and on a busy two-core machine
/// that latency, not the CPU, limits how many mails per second one connection carries. With
/// the session task preferring this executor (SE-0417) the conversation, NIOAsyncChannel's
/// reads and writes included, stays on the loop's thread. Nothing in the conversation blocks.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, *)
final class SMTPEventLoopExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    /// An executor for `eventLoop`.
    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
