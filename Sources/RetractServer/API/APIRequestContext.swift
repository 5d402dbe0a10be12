import Hummingbird
import RetractCore

/// The request context of the `/api/v1` routes: the application's context plus the sender
/// that `BearerAuthMiddleware` authenticated and the client's address when known.
struct APIRequestContext: ChildRequestContext {
    typealias ParentContext = BasicRequestContext

    var coreContext: CoreRequestContextStorage
    /// The authenticated sender; set for every request that reaches a handler.
    var sender: SenderAccount?
    /// The client's IP address, for the per-client limit on failed tokens; nil when the
    /// application's context does not carry it (then no per-client limit applies).
    let clientAddress: String?

    init(context: BasicRequestContext) throws {
        coreContext = context.coreContext  // keeps the route parameters the router captured
        clientAddress = ((context as Any) as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
    }

    /// The authenticated sender, or a 401 if the middleware did not run (a wiring mistake).
    func requireSender() throws -> SenderAccount {
        guard let sender else {
            throw APIProblem.unauthorized("send Authorization: Bearer <token>", invalidToken: false)
        }
        return sender
    }
}
