/// Wall time on the monotonic clock, in seconds.
enum Stopwatch {
    /// Runs `body` and returns its result with the seconds it took.
    static func measure<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try body()
        return (result, seconds(clock.now - start))
    }

    /// Runs `body` and returns its result with the seconds it took.
    static func measureAsync<T>(_ body: () async throws -> T) async throws -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await body()
        return (result, seconds(clock.now - start))
    }

    /// A duration as fractional seconds.
    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
