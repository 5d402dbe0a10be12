/// Why a web sign-in was refused.
///
/// Deliberately coarse: an unknown address, a missing password and a wrong password are all
/// `invalidCredentials`, so the answer does not tell which addresses have accounts.
public enum SignInFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The address and password do not match an account.
    case invalidCredentials
    /// Too many failed sign-ins for this account or from this client; try again after
    /// `retryAfter` seconds (the `Retry-After` of a 429).
    case tooManyAttempts(retryAfter: Int)

    /// One line for the person signing in.
    public var description: String {
        switch self {
        case .invalidCredentials:
            "the address or the password is wrong"
        case .tooManyAttempts(let retryAfter):
            "too many failed sign-ins; try again in \(retryAfter) seconds"
        }
    }
}
