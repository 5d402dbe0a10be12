import Hummingbird

/// Sets each request's client address from the forwarding header when its peer is a trusted
/// proxy (`ClientAddressResolver`); with no trusted proxy it does nothing, and the client is
/// the TCP peer the context already holds.
struct ClientAddressMiddleware<Context: ClientAddressRequestContext>: RouterMiddleware {
    let resolver: ClientAddressResolver

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard resolver.trustsProxies else { return try await next(request, context) }
        var context = context
        context.clientAddress = resolver.clientAddress(peer: context.clientAddress, fields: request.headers)
        return try await next(request, context)
    }
}
