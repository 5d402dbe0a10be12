import Hummingbird
import RetractCore

/// The request context of the `/api/v1` routes: the application's context plus the sender
/// that `BearerAuthMiddleware` authenticated and the client's address when known.
struct APIRequestContext: ChildRequestContext {
    typealias ParentContext = RetractRequestContext

    var coreContext: CoreRequestContextStorage
    /// The authenticated sender; set for every request that reaches a handler.
    var sender: SenderAccount?
    /// The client's IP address (`ClientAddressResolver`), for the per-client limit on failed
    /// tokens; nil only in router tests without a connection (then no per-client limit applies).
    let clientAddress: String?

    init(context: RetractRequestContext) throws {
        coreContext = context.coreContext  // keeps the route parameters the router captured
        clientAddress = context.clientAddress
    }

    /// The authenticated sender, or a 401 if the middleware did not run (a wiring mistake).
    func requireSender() throws -> SenderAccount {
        guard let sender else {
            throw APIProblem.unauthorized("send Authorization: Bearer <token>", invalidToken: false)
        }
        return sender
    }
}
