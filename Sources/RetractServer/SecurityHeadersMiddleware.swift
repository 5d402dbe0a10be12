import Hummingbird
import Logging
import HTTPTypes
import Sodium

/// Puts the security headers on every response — errors included — and turns any error
/// that is not an `HTTPResponseError` into a bare 500 with no detail.
///
/// The CSP allows only this origin's own scripts and styles, no inline code, no framing,
/// and forms that post back to this origin. The one exception is the reader's page of a
/// mail with an HTML body (`mailPageContentSecurityPolicy`), which asks for it through an
/// internal field this middleware removes. When the public URL is https, every response
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

    /// The internal field by which the reader asks for `mailPageContentSecurityPolicy`
    /// with its nonce; removed here, never sent.
    static var mailFrameNonceField: HTTPField.Name { HTTPField.Name("X-Retract-Mail-Frame-Nonce")! }

    /// The CSP of a page that shows a mail's HTML in a sandboxed `srcdoc` frame: the strict
    /// policy, plus what the frame's document (which inherits it) needs for the sender's
    /// styles and inline images: `<style>` elements that carry this response's nonce (the
    /// sanitiser puts it on the mail's), style attributes, and `data:` images. Scripts,
    /// frames from anywhere, connections and forms stay as strict as on every other page.
    static func mailPageContentSecurityPolicy(nonce: String) -> String {
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-\(nonce)'; style-src-attr 'unsafe-inline'; "
            + "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
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
        // Only the reader's HTML-mail page asks for the frame's policy, with a nonce of base64url characters.
        if let nonce = response.headers[Self.mailFrameNonceField] {
            response.headers[Self.mailFrameNonceField] = nil
            let valid = (16...64).contains(nonce.utf8.count) && nonce.utf8.allSatisfy(Base64URL.isAlphabet)
            response.headers[.contentSecurityPolicy] =
                valid ? Self.mailPageContentSecurityPolicy(nonce: nonce) : Self.contentSecurityPolicy
        } else {
            response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        }
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
