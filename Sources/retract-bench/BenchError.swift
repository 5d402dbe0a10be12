/// A benchmark step that could not run; the message says which and why, and the benchmark
/// exits with it instead of crashing.
struct BenchError: Error, CustomStringConvertible {
    /// One line for `retract-bench: error:`.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
