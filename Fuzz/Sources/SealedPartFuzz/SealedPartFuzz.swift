import RetractFuzzTargets

/// libFuzzer's entry point for `FuzzTarget.SealedPartFuzz` (built by `make fuzz` only).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzTarget.SealedPartFuzz.run(start, count)
    return 0
}
