import Hummingbird
import Logging
import RetractCore

/// Turns every failure inside `/api/v1` into an `application/problem+json` answer.
///
/// Problems pass through; core errors map to their status (`APIProblem.from`); Hummingbird's
/// own HTTP errors keep their status; anything else is a 500 whose body says nothing more,
/// while the server log records the error's type (never request bodies or tokens).
struct APIProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as APIProblem {
            return problem.response()
        } catch let error as RetractError {
            let problem = APIProblem.from(error, messageID: Self.messageID(in: request.uri.path))
            if problem.status == .internalServerError {
                context.logger.error("API request failed", metadata: ["code": "\(error.code.rawValue)"])
            }
            return problem.response()
        } catch let error as HTTPError {
            return APIProblem(
                code: "http-\(error.status.code)", status: error.status, title: error.status.reasonPhrase,
                detail: error.body ?? error.status.reasonPhrase
            ).response()
        } catch {
            context.logger.error("API request failed", metadata: ["error": "\(type(of: error))"])
            return APIProblem.internalError.response()
        }
    }

    /// The `{id}` segment of a `/api/v1/messages/{id}…` path, for 404 details.
    static func messageID(in path: String) -> String? {
        let parts = path.split(separator: "/")
        guard parts.count >= 4, parts[2] == "messages" else { return nil }
        return String(parts[3])
    }
}
