import NIOCore
import Testing

@testable import RetractServer

/// The request deadline state machine, without a channel: the times are given.
@Suite("Request deadlines: a head within its timeout, a body at the minimum rate")
struct RequestDeadlinesTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func limits() -> HTTPConnectionLimits {
        var limits = HTTPConnectionLimits()
        limits.headerTimeout = .seconds(10)
        limits.bodyTimeout = .seconds(20)
        limits.minimumBodyRate = 1000
        return limits
    }

    @Test("a head still incomplete at the header timeout after its first byte closes the connection")
    func slowHeadCloses() {
        var deadlines = RequestDeadlines(Self.limits())
        #expect(deadlines.bytesArrived(now: Self.start) == .check(at: Self.start + .seconds(10)))
        // More bytes of the same head move nothing.
        #expect(deadlines.bytesArrived(now: Self.start + .seconds(5)) == .none)
        #expect(deadlines.checkDue(now: Self.start + .seconds(9)) == .check(at: Self.start + .seconds(10)))
        #expect(deadlines.checkDue(now: Self.start + .seconds(10)) == .close)
    }

    @Test("a head complete in time moves on to the body's deadline")
    func headInTime() {
        var deadlines = RequestDeadlines(Self.limits())
        _ = deadlines.bytesArrived(now: Self.start)
        let head = Self.start + .seconds(9)
        #expect(deadlines.headReceived(now: head) == .check(at: head + .seconds(20)))
        #expect(deadlines.checkDue(now: Self.start + .seconds(10)) == .check(at: head + .seconds(20)))
    }

    @Test("a body gets the grace plus one second per minimum-rate bytes, and is closed when slower")
    func bodyRate() {
        var deadlines = RequestDeadlines(Self.limits())
        _ = deadlines.bytesArrived(now: Self.start)
        _ = deadlines.headReceived(now: Self.start)
        deadlines.bodyReceived(5_000)
        // 20 s grace + 5 s for 5,000 bytes at 1,000 bytes per second.
        #expect(deadlines.checkDue(now: Self.start + .seconds(20)) == .check(at: Self.start + .seconds(25)))
        deadlines.bodyReceived(500)
        #expect(deadlines.checkDue(now: Self.start + .seconds(25)) == .check(at: Self.start + .milliseconds(25_500)))
        #expect(deadlines.checkDue(now: Self.start + .milliseconds(25_500)) == .close)
    }

    @Test("a complete request has no deadline while it is answered, however long that takes")
    func answeringHasNoDeadline() {
        var deadlines = RequestDeadlines(Self.limits())
        _ = deadlines.bytesArrived(now: Self.start)
        _ = deadlines.headReceived(now: Self.start)
        deadlines.endReceived()
        #expect(deadlines.checkDue(now: Self.start + .seconds(3_600)) == .none)
        // Bytes of a pipelined request during the answer start no head deadline …
        #expect(deadlines.bytesArrived(now: Self.start + .seconds(3_600)) == .none)
        // … bytes after it do.
        deadlines.responseEnded()
        let next = Self.start + .seconds(3_601)
        #expect(deadlines.bytesArrived(now: next) == .check(at: next + .seconds(10)))
    }

    @Test("an answer written before its body ended leaves the body's deadline in force")
    func earlyAnswer() {
        var deadlines = RequestDeadlines(Self.limits())
        _ = deadlines.bytesArrived(now: Self.start)
        _ = deadlines.headReceived(now: Self.start)
        deadlines.responseEnded()
        #expect(deadlines.checkDue(now: Self.start + .seconds(20)) == .close)
    }

    @Test("a body of any size cannot overflow its allowance")
    func hugeBody() {
        var deadlines = RequestDeadlines(Self.limits())
        _ = deadlines.headReceived(now: Self.start)
        deadlines.bodyReceived(Int.max - 1)
        #expect(deadlines.checkDue(now: Self.start + .seconds(30)) != .close)
    }
}
