import Foundation

/// Whether the timing tests run: only when asked (`RETRACT_BENCH=1`) and only in an
/// optimized build, where timings mean something.
enum BenchmarkGate {
    static var isEnabled: Bool {
        #if DEBUG
            false
        #else
            ProcessInfo.processInfo.environment["RETRACT_BENCH"] == "1"
        #endif
    }
}
