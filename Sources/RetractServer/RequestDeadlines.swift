import NIOCore

/// When the request a connection is sending must have arrived: its head within
/// `headerTimeout` of its first byte, its body at `minimumBodyRate` on average after a grace
/// of `bodyTimeout`.
///
/// A plain state machine over what `RequestDeadlineHandler` sees (bytes on the socket, the
/// decoded request parts, the end of each response); it answers what to do and is tested
/// without a channel. The wait between requests is the idle timeout's, which Hummingbird's
/// `HTTPConnectionStateHandler` enforces. Bytes that arrive while a response is still being
/// written (a pipelined request) start no head deadline, so a long download is never cut
/// short by them; once the response ends, the idle timeout covers the connection again.
struct RequestDeadlines {
    /// What the connection is receiving.
    enum Phase: Equatable {
        /// No request is being received.
        case waiting
        /// A request head has begun and is not complete.
        case head(started: NIODeadline)
        /// A head is complete; its body is arriving, `received` bytes so far.
        case body(started: NIODeadline, received: Int)
    }

    /// What the handler must do.
    enum Action: Equatable {
        case none
        /// Call `checkDue` at this time (an earlier check already scheduled may stay).
        case check(at: NIODeadline)
        /// Close the connection: a deadline passed.
        case close
    }

    let headerTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let minimumBodyRate: Int
    private(set) var phase = Phase.waiting
    /// Requests whose head was received and whose response has not ended.
    private(set) var unanswered = 0

    init(_ limits: HTTPConnectionLimits) {
        headerTimeout = TimeAmount(limits.headerTimeout)
        bodyTimeout = TimeAmount(limits.bodyTimeout)
        minimumBodyRate = max(1, limits.minimumBodyRate)
    }

    /// Bytes came in from the peer (before they are decoded).
    mutating func bytesArrived(now: NIODeadline) -> Action {
        guard phase == .waiting, unanswered == 0 else { return .none }
        phase = .head(started: now)
        return .check(at: now + headerTimeout)
    }

    /// A request head was decoded.
    mutating func headReceived(now: NIODeadline) -> Action {
        unanswered += 1
        phase = .body(started: now, received: 0)
        return .check(at: now + bodyTimeout)
    }

    /// Body bytes were decoded.
    mutating func bodyReceived(_ count: Int) {
        guard case .body(let started, let received) = phase else { return }
        phase = .body(started: started, received: received &+ count)
    }

    /// The request is complete.
    mutating func endReceived() {
        phase = .waiting
    }

    /// A response was written to its end.
    mutating func responseEnded() {
        unanswered = max(0, unanswered - 1)
    }

    /// A scheduled check is due: close when the current deadline has passed.
    func checkDue(now: NIODeadline) -> Action {
        let deadline: NIODeadline
        switch phase {
        case .waiting: return .none
        case .head(let started): deadline = started + headerTimeout
        case .body(let started, let received): deadline = started + bodyTimeout + allowance(for: received)
        }
        return now >= deadline ? .close : .check(at: deadline)
    }

    /// One second per `minimumBodyRate` bytes, capped at a year (no overflow).
    private func allowance(for received: Int) -> TimeAmount {
        let seconds = min(Int64(received / minimumBodyRate), 365 * 86_400)
        let rest = Int64(received % minimumBodyRate) * 1_000_000_000 / Int64(minimumBodyRate)
        return .seconds(seconds) + .nanoseconds(rest)
    }
}
