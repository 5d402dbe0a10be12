import RetractFuzzTargets

/// libFuzzer's entry point for `FuzzTarget.IncomingHeadersFuzz` (built by `make fuzz` only).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzTarget.IncomingHeadersFuzz.run(start, count)
    return 0
}
