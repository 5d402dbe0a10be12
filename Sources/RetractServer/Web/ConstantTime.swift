/// Comparison of secrets (the sign-in form's CSRF token) whose time does not depend on
/// where they differ.
enum ConstantTime {
    /// Whether `a` and `b` are the same string; length differences return early, which
    /// reveals only the length of a random token of fixed length.
    static func equals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
