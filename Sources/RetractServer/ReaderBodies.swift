import Foundation
import Hummingbird

/// The JSON answer to a successful open (the HTTP contract of DESIGN.md).
struct OpenedMessageBody: Encodable {
    struct Attachment: Encodable {
        let index: Int
        let name: String
        let size: Int64
        let mediaType: String
    }

    let subject: String
    let from: String
    let sentAt: Date
    let bodyText: String
    let to: [String]
    let cc: [String]
    let attachments: [Attachment]
}

/// The JSON answer to every refused request: a stable code and one line.
struct ErrorBody: Encodable {
    let error: String
    let message: String
    var revokedAt: Date?
    var reason: String?
    var replaced: Bool?
    var expiredAt: Date?
    /// Where the verification code goes (partly masked), on `code_required`.
    var sentTo: String?
    /// Wrong codes left before the lock, on `invalid_code`.
    var remaining: Int?

    init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

/// The JSON answer to a code request: where the code went and until when it works.
struct CodeSentBody: Encodable {
    let sentTo: String?
    let expiresAt: Date?
    let message: String
}

/// A request the reader routes cannot take (wrong content type, malformed body or key).
struct ReaderRequestError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status, ErrorBody(error: code, message: message))
    }
}

/// JSON responses with the contract's conventions: snake_case keys, ISO 8601 dates.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"internal"}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
