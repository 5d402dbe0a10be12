import Foundation
import Hummingbird
import RetractCore

/// Authenticates every API request by its `Authorization: Bearer <token>` header.
///
/// A missing header, another scheme or a token no sender holds all answer 401 with
/// `WWW-Authenticate: Bearer` (RFC 6750) before any handler runs; the token itself is never
/// logged or echoed. The lookup (hash, then constant-time compare) is the core's. Wrong
/// tokens count against the client's address in the vault's rate-limit table (20 per 15
/// minutes, kept across restarts); past that the client gets 429 with `Retry-After` until
/// the window frees up, whatever token it sends.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let service: RetractService

    /// Longest header value looked at: a token is `rt_` and 43 base64url characters.
    static let maxTokenLength = 256
    /// The rate-limit scope of wrong API tokens, per client address.
    static let limitScope = "api-token-client"
    /// Wrong tokens allowed per client address inside `limitWindow`.
    static let limitCount = 20
    /// The window of the per-client limit.
    static let limitWindow: TimeInterval = 15 * 60

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let client = context.clientAddress,
            let retryAfter = try await service.rateLimiter.retryAfter(
                scope: Self.limitScope, subject: client, limit: Self.limitCount, window: Self.limitWindow,
                now: service.now())
        {
            throw APIProblem.tooManyRequests(retryAfter: retryAfter)
        }
        guard let header = request.headers[.authorization] else {
            throw APIProblem.unauthorized(
                "this API needs a sender's token: send Authorization: Bearer <token> "
                    + "(`retract senders add ADDR` prints one)", invalidToken: false)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIProblem.unauthorized(
                "the Authorization header must use the Bearer scheme: Authorization: Bearer <token>",
                invalidToken: false)
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard token.count <= Self.maxTokenLength, let account = await service.sender(bearerToken: token) else {
            if let client = context.clientAddress {
                try await service.rateLimiter.recordFailure(scope: Self.limitScope, subject: client, at: service.now())
            }
            throw APIProblem.unauthorized(
                "the token is not valid (revoked, rotated or mistyped); `retract senders token ADDR` issues a new one",
                invalidToken: true)
        }
        var context = context
        context.sender = account
        return try await next(request, context)
    }
}
