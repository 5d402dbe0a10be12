import CSodium

/// Whether two byte strings are equal, in time that depends only on their length
/// (`sodium_memcmp`). Lengths are compared first; they are not treated as secret.
public func constantTimeEquals(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    guard lhs.count == rhs.count else { return false }
    guard let left = lhs.baseAddress, let right = rhs.baseAddress, lhs.count > 0 else { return true }
    return sodium_memcmp(left, right, lhs.count) == 0
}

/// Whether two byte strings are equal, in time that depends only on their length.
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in constantTimeEquals(left, right) } }
}

/// Whether two secrets are equal, in time that depends only on their length.
public func constantTimeEquals(_ lhs: SecureBytes, _ rhs: SecureBytes) -> Bool {
    lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in constantTimeEquals(left, right) } }
}

/// Overwrites `buffer` with zeros in a way the compiler may not optimise away
/// (`sodium_memzero`). For wiping plaintext that must not be released after a failure.
public func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    sodium_memzero(base, buffer.count)
}
