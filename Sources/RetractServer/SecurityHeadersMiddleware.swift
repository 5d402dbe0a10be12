import Hummingbird
import Logging

/// Puts the security headers on every response — errors included — and turns any error
/// that is not an `HTTPResponseError` into a bare 500 with no detail.
///
/// The CSP allows only this origin's own scripts and styles, no inline code, no framing,
/// and forms that post back to this origin. When the public URL is https, every response
/// also carries `Strict-Transport-Security`, so a browser that has seen the service once
/// never again sends a link key or a session cookie over plain http (a network attacker's
/// downgrade); it names no subdomains, because the operator's other hosts are not ours.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The `Strict-Transport-Security` value: a year, this host only.
    static var strictTransportSecurity: String { "max-age=31536000" }

    /// Whether responses carry `Strict-Transport-Security`.
    let isHTTPS: Bool

    /// The middleware for a service reached at `publicURL`.
    init(publicURL: String) {
        isHTTPS = publicURL.lowercased().hasPrefix("https://")
    }

    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = (try? error.response(from: request, context: context)) ?? Self.internalError()
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(type(of: error))"])
            response = Self.internalError()
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        if isHTTPS { response.headers[.strictTransportSecurity] = Self.strictTransportSecurity }
        return response
    }

    static func internalError() -> Response {
        Response(
            status: .internalServerError, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"internal","message":"something went wrong; try again"}"#)))
    }
}
