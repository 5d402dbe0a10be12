import RetractFuzzTargets

/// libFuzzer's entry point for `FuzzTarget.SMTPServerCommandFuzz` (built by `make fuzz` only).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzTarget.SMTPServerCommandFuzz.run(start, count)
    return 0
}
