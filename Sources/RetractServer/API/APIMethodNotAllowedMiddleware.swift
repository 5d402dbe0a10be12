import Hummingbird

/// Answers 405 with `Allow` for a method that a path of the API does not serve
/// (`TRACE /api/v1/messages`, `DELETE /api/v1/messages/{id}`), where the router alone would
/// say 404 as if the path did not exist. Mounted on the router after the API's routes, so
/// it sees only the requests no route took; paths outside the API pass through.
struct APIMethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let allowed = APIRoute.methods(atPath: request.uri.path), !allowed.contains(request.method) {
            throw APIProblem.methodNotAllowed(allowed)
        }
        return try await next(request, context)
    }
}

extension APIProblem {
    /// 405: the path exists, the method is not one of its; `Allow` lists those.
    static func methodNotAllowed(_ allowed: [HTTPRequest.Method]) -> APIProblem {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        var problem = APIProblem(
            code: "method-not-allowed", status: .methodNotAllowed, title: "Method not allowed",
            detail: "this path answers \(list) only")
        problem.headers[.allow] = list
        return problem
    }

    /// 422: a revocation names an address the message was not sent to (`field` is
    /// `recipients`); nothing was revoked. Not a 404: the message exists, and a client (or
    /// Schemathesis' stateful checks) reads 404 as "this message is gone".
    static func recipientNotFound(_ detail: String) -> APIProblem {
        var problem = APIProblem(
            code: "recipient-not-found", status: .unprocessableContent, title: "Not a recipient", detail: detail)
        problem.field = "recipients"
        return problem
    }
}
