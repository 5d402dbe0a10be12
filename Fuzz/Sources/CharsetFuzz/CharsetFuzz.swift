import RetractFuzzTargets

/// libFuzzer's entry point for `FuzzTarget.CharsetFuzz` (built by `make fuzz` only).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzTarget.CharsetFuzz.run(start, count)
    return 0
}
