import Hummingbird

/// Which requests may change state in the web app: only those a page of this service
/// sent. A POST is refused when the browser says it comes from elsewhere —
/// `Sec-Fetch-Site` other than `same-origin` (or `none`, a request the user made
/// themselves), or an `Origin` that is neither the public URL's nor the address the
/// browser itself used (`Host`, for a development server reached as `localhost` while the
/// public URL says `127.0.0.1`). The CSRF token and the `SameSite=Strict` cookie already
/// stop such a request; this is the third, independent check, and it runs before any of
/// the body is read.
///
/// `Sec-Fetch-Site` is the signal that counts: our pages send `Referrer-Policy:
/// no-referrer`, and under it browsers send `Origin: null` even with their own form posts
/// (Chromium does: seen in the browser tests), so `null` is no origin at all, like a
/// missing header. A request with neither header (not a browser, or one older than
/// `Sec-Fetch-Site`) is left to the token, as it always was.
struct SameOriginPolicy: Sendable {
    /// `scheme://host[:port]` of the public URL, lower case.
    let publicOrigin: String

    init(publicURL: String) {
        publicOrigin = Self.origin(of: publicURL)
    }

    /// The origin part of an absolute URL (scheme, host, port), lower case.
    static func origin(of url: String) -> String {
        let lowered = url.lowercased()
        guard let schemeEnd = lowered.range(of: "://") else { return lowered }
        let rest = lowered[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(lowered[..<schemeEnd.upperBound]) + authority
    }

    /// Whether a request with this method and these headers may go on.
    func allows(method: HTTPRequest.Method, headers: HTTPFields, authority: String?) -> Bool {
        guard ![.get, .head, .options].contains(method) else { return true }
        if let site = headers[.secFetchSite]?.lowercased(), site != "same-origin", site != "none" {
            return false
        }
        guard let origin = headers[.origin]?.lowercased(), origin != "null" else { return true }
        if origin == publicOrigin { return true }
        guard let authority = authority?.lowercased(), !authority.isEmpty else { return false }
        return origin == "http://\(authority)" || origin == "https://\(authority)"
    }
}

/// Applies `SameOriginPolicy` to every route it is added to, answering `refusal` (a 403
/// page) before the handler runs.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: SameOriginPolicy
    let refusal: @Sendable (Request) -> Response

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard policy.allows(method: request.method, headers: request.headers, authority: request.head.authority)
        else { return refusal(request) }
        return try await next(request, context)
    }
}
