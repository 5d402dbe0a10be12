import Hummingbird

/// The sender API's route table: every (method, path) served under `/api/v1`.
///
/// The router registers exactly these routes, and `docs/openapi.yaml` must describe exactly
/// these (a test compares the spec with the routes the built router reports), so adding a
/// route here without documenting it fails the build's tests.
enum APIRoute: CaseIterable, Sendable {
    /// `POST /messages`: seal and send a message (JSON or multipart with attachments).
    case createMessage
    /// `GET /messages`: the sender's messages, newest first.
    case listMessages
    /// `GET /messages/{id}`: one message with each recipient's delivery, opens and revocation.
    case showMessage
    /// `POST /messages/{id}/revoke`: take a message back; answers the recall report.
    case revokeMessage
    /// `POST /messages/{id}/cancel`: call a message back inside its send delay.
    case cancelMessage

    /// Where the API is mounted.
    static let prefix = "/api/v1"

    /// The route's HTTP method.
    var method: HTTPRequest.Method {
        switch self {
        case .listMessages, .showMessage: .get
        case .createMessage, .revokeMessage, .cancelMessage: .post
        }
    }

    /// The methods the API serves at a request path, sorted, or nil when the path is none
    /// of the API's (the methods of every route whose pattern it matches, a capture such as
    /// `{id}` matching any one segment).
    static func methods(atPath path: String) -> [HTTPRequest.Method]? {
        guard path == prefix || path.hasPrefix(prefix + "/") else { return nil }
        let segments = path.dropFirst(prefix.count).split(separator: "/")
        let methods = allCases.filter { route in
            let pattern = route.path.components.map(\.description)
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method)
        return methods.isEmpty ? nil : methods.sorted { $0.rawValue < $1.rawValue }
    }

    /// The path below `/api/v1` in Hummingbird's syntax (`:id` captures a segment).
    var path: RouterPath {
        switch self {
        case .createMessage, .listMessages: "messages"
        case .showMessage: "messages/:id"
        case .revokeMessage: "messages/:id/revoke"
        case .cancelMessage: "messages/:id/cancel"
        }
    }
}
