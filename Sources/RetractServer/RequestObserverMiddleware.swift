import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import RetractMetrics

/// Sees every HTTP request to its end: counts and times it by route template, method and
/// status (when `metrics` is set), and writes one `request` log line at the info level
/// (route, method, status, `duration_ms`, with Hummingbird's request id).
///
/// The route is the router's template (`/m/{token}`), never the path a client sent: a path
/// holds the grant token, and a raw path would also let anyone grow the label set without
/// bound. A request no route matched is `NotFound` (Hummingbird's word). No header, body or
/// client address is logged (docs/operations.md, "Logs"). The time runs until the body is
/// written, so a streamed attachment counts whole. Outermost of the middlewares, so it sees
/// the status the client got, error pages included.
struct RequestObserverMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where the counts go; nil when the service exports no metrics.
    let metrics: RetractMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // Nothing to count and no line to write (`RETRACT_LOG_LEVEL` above info, no metrics):
        // no clock read and no wrapped body on this, the hottest path.
        guard metrics != nil || context.logger.logLevel <= .info else { return try await next(request, context) }
        let start = DispatchTime.now().uptimeNanoseconds
        let method = request.method.rawValue
        do {
            var response = try await next(request, context)
            let status = response.status.code
            let body = response.body
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer { self.finish(context: context, method: method, status: status, start: start) }
                try await body.write(writer)
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            finish(context: context, method: method, status: status, start: start)
            throw error
        }
    }

    private func finish(context: Context, method: String, status: Int, start: UInt64) {
        let route = context.endpointPath ?? "NotFound"
        let elapsed = Int64(clamping: DispatchTime.now().uptimeNanoseconds &- start)
        if let metrics {
            metrics.count(.httpRequests, ["route": route, "method": method, "status": String(status)])
            metrics.record(.httpRequestDuration, nanoseconds: elapsed, ["route": route, "method": method])
        }
        guard context.logger.logLevel <= .info else { return }
        context.logger.info(
            "request",
            metadata: [
                "route": .string(route), "method": .string(method), "status": .stringConvertible(status),
                "duration_ms": .string(String(format: "%.2f", Double(elapsed) / 1_000_000)),
            ])
    }
}
