import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension Process {
    /// `run()`, safe from swift-corelibs-foundation's readdir over-read (issue/PR #5472,
    /// present in Swift 6.3.1): to emulate CLOEXEC, `Process.run()` reads `/proc/self/fd` and
    /// copies each `dirent`'s whole 256-byte `d_name`, which reads past glibc's 32 KiB readdir
    /// buffer and crashes the test process when that buffer ends at an unmapped page (seen
    /// here about one full `swift test` in three once the suite spawned many processes).
    ///
    /// The workaround: allocations of 16 KiB and more are mmapped, so the readdir buffer gets
    /// a mapping of its own whose page rounding leaves ~4 KiB after its end, more than the
    /// 256 bytes the copy can over-read. Set once per process, before the first launch.
    ///
    /// That is not enough on its own: a large free chunk can still serve the buffer from
    /// the heap, right below unmapped memory. The over-read only reaches the end of the
    /// buffer when /proc/self/fd fills it (about 1,365 open descriptors), so `make test`
    /// caps how many tests run at once (TEST_PARALLELISM, about 260 descriptors at most).
    public func runSafely() throws {
        _ = Self.readdirWorkaround
        try run()
    }

    /// Runs `tool arguments…` (a full path) to its end with its output discarded; its exit status.
    public static func exitStatus(of tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runSafely()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private static let readdirWorkaround: Void = {
        #if canImport(Glibc)
            // <malloc.h> is not part of the Glibc module: find mallopt(3) at run time.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
                _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 16 * 1024)
            }
        #endif
    }()
}
