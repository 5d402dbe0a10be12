/// One throughput figure: the same number of bytes processed several times, best run kept.
///
/// Best-of-N rather than the mean, because on a shared 2-core machine the slower runs
/// measure the neighbours, not the code.
struct Throughput {
    /// Plaintext bytes per run.
    let bytes: Int64
    /// Wall seconds of every run, in order.
    let runs: [Double]

    /// The fastest run.
    var bestSeconds: Double { runs.min() ?? .infinity }

    /// MiB (2^20 bytes) per second of the fastest run.
    var mebibytesPerSecond: Double { Double(bytes) / 1_048_576 / bestSeconds }

    /// This figure as a share of `baseline`, 1.0 meaning as fast.
    func ratio(to baseline: Throughput) -> Double {
        mebibytesPerSecond / baseline.mebibytesPerSecond
    }
}
