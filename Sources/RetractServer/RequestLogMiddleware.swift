import Dispatch
import Hummingbird
import Logging

/// Writes one `request` line per HTTP request at the info level: route template, method,
/// status and duration, with Hummingbird's request id (`request_id` in JSON logs).
///
/// The route is the router's template (`/m/{token}`), never the path the client sent: the
/// path of a reader page holds the grant token, and a query may hold anything. No header,
/// no body and no client address is logged (docs/operations.md, "Logs"). The time runs
/// until the body is written, so a streamed download counts whole.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        let method = request.method.rawValue
        do {
            var response = try await next(request, context)
            let status = response.status.code
            let body = response.body
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer { Self.finish(context: context, method: method, status: status, start: start) }
                try await body.write(writer)
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            Self.finish(context: context, method: method, status: status, start: start)
            throw error
        }
    }

    private static func finish(context: Context, method: String, status: Int, start: UInt64) {
        guard context.logger.logLevel <= .info else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds &- start) / 1_000_000
        context.logger.info(
            "request",
            metadata: [
                "route": .string(context.endpointPath ?? "NotFound"), "method": .string(method),
                "status": .stringConvertible(status), "duration_ms": .string(String(format: "%.2f", elapsed)),
            ])
    }
}
