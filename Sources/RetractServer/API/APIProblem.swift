import Foundation
import Hummingbird
import RetractCore

/// A refused API request, answered as an RFC 9457 problem (`application/problem+json`).
///
/// `type` is a stable URN a client can branch on, `title` names the kind of problem and
/// `detail` is one line that says what to do. A 400 names the offending request field in
/// `field`; a 422 of `strict` carries the pre-send `findings`. Nothing else about a failure
/// (no internal error text, no stack trace, no secret) ever reaches the client.
struct APIProblem: HTTPResponseError, Sendable {
    /// The problem's kind: the last part of its `type` URN.
    let code: String
    /// The HTTP status.
    let status: HTTPResponse.Status
    /// Short, fixed text for the kind of problem.
    let title: String
    /// One line about this occurrence, saying what to do.
    let detail: String
    /// The request field at fault (400 only).
    var field: String?
    /// The pre-send findings that blocked a `strict` send (422 only).
    var findings: [Finding]?
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`).
    var headers: HTTPFields = [:]

    /// The media type of every problem body.
    static let mediaType = "application/problem+json"

    /// The URN that identifies problems of this kind.
    var type: String { "urn:retract:problem:\(code)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The problem as an HTTP response.
    func response() -> Response {
        var fields = headers
        fields[.contentType] = Self.mediaType
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: encoded())))
    }

    /// The JSON body: `type`, `title`, `status`, `detail`, and `field` or `findings` when set.
    func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Body(
            type: type, title: title, status: Int(status.code), detail: detail, field: field, findings: findings)
        return (try? encoder.encode(body)) ?? Data(#"{"status":500,"title":"Internal error"}"#.utf8)
    }

    private struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let field: String?
        let findings: [Finding]?
    }
}

extension APIProblem {
    /// 401: no usable `Authorization: Bearer` header, or a token no sender holds.
    static func unauthorized(_ detail: String, invalidToken: Bool) -> APIProblem {
        var problem = APIProblem(code: "unauthorized", status: .unauthorized, title: "Unauthorized", detail: detail)
        problem.headers[.wwwAuthenticate] =
            invalidToken ? #"Bearer realm="retract", error="invalid_token""# : #"Bearer realm="retract""#
        return problem
    }

    /// 400: one field of the request is missing, of the wrong type or not acceptable.
    static func invalidField(_ field: String, _ detail: String) -> APIProblem {
        var problem = APIProblem(
            code: "invalid-field", status: .badRequest, title: "Invalid request field", detail: detail)
        problem.field = field
        return problem
    }

    /// 400: the body cannot be parsed at all (broken JSON or multipart framing).
    static func malformedBody(_ detail: String) -> APIProblem {
        APIProblem(code: "malformed-body", status: .badRequest, title: "Malformed request body", detail: detail)
    }

    /// 415: the body is neither JSON nor multipart/form-data.
    static func unsupportedMediaType(_ detail: String) -> APIProblem {
        APIProblem(
            code: "unsupported-media-type", status: .unsupportedMediaType, title: "Unsupported media type",
            detail: detail)
    }

    /// 413: the request body is larger than `limit`; nothing was stored. `hint` says how to fit.
    static func tooLarge(limit: Int, hint: String) -> APIProblem {
        APIProblem(
            code: "too-large", status: .contentTooLarge, title: "Request too large",
            detail: "the request body is larger than the limit of \(limit) bytes; nothing was stored. \(hint)")
    }

    /// The hint of a 413 for an upload over `RETRACT_MAX_UPLOAD`.
    static let uploadHint = "Send smaller attachments, or ask the operator to raise RETRACT_MAX_UPLOAD"
    /// The hint of a 413 for a JSON body over its fixed limit.
    static let jsonHint = "Send long texts or files as multipart/form-data"

    /// 404: no message with this id belongs to the authenticated sender.
    static func messageNotFound(_ id: String) -> APIProblem {
        APIProblem(
            code: "not-found", status: .notFound, title: "Not found",
            detail: "no message with id \(id.prefix(64)) among yours; GET /api/v1/messages lists them")
    }

    /// 409: the message can no longer be cancelled.
    static func conflict(_ detail: String) -> APIProblem {
        APIProblem(code: "too-late-to-cancel", status: .conflict, title: "Too late to cancel", detail: detail)
    }

    /// 422: `strict` was set and the pre-send checks warned; nothing was sent.
    static func blockedByFindings(_ findings: [Finding]) -> APIProblem {
        let warnings = findings.filter { $0.severity == .warning }.map(\.message).joined(separator: "; ")
        var problem = APIProblem(
            code: "blocked-by-findings", status: .unprocessableContent, title: "Blocked by pre-send checks",
            detail: "not sent (strict): \(warnings); fix the draft or send without strict")
        problem.findings = findings
        return problem
    }

    /// 429: too many failed attempts from this client; retry after the given seconds.
    static func tooManyRequests(retryAfter: Int) -> APIProblem {
        var problem = APIProblem(
            code: "too-many-requests", status: .tooManyRequests, title: "Too many requests",
            detail: "too many failed attempts; try again in \(retryAfter) seconds")
        problem.headers[.retryAfter] = String(retryAfter)
        return problem
    }

    /// 500: anything unexpected; the detail never says more than this.
    static let internalError = APIProblem(
        code: "internal", status: .internalServerError, title: "Internal error",
        detail: "the server could not complete the request; nothing about it is shown here, the server log has it")

    /// The problem a core failure becomes: input errors 400 naming the field, unknown or
    /// foreign messages 404, a finished undo window 409, everything else 500.
    static func from(_ error: RetractError, messageID: String? = nil) -> APIProblem {
        switch error.code {
        case .invalidInput, .invalidAddress, .noRecipients, .headerInjection, .attachmentUnreadable:
            let (field, detail) = Self.apiWording(error.description)
            return .invalidField(field ?? Self.defaultField(error.code), detail)
        case .blockedByFindings:
            return APIProblem(
                code: "blocked-by-findings", status: .unprocessableContent, title: "Blocked by pre-send checks",
                detail: error.description)
        case .messageNotFound:
            return .messageNotFound(messageID ?? "")
        case .notARecipient:
            return .recipientNotFound(error.description)
        case .tooLateToCancel:
            return .conflict(Self.apiWording(error.description).1)
        default:
            return .internalError
        }
    }

    private static func defaultField(_ code: RetractError.Code) -> String {
        switch code {
        case .noRecipients: "to"
        case .headerInjection: "subject"
        case .attachmentUnreadable: "attachment"
        default: "body"
        }
    }

    /// The core phrases input errors for the CLI (`--max-views must be …`); the API names
    /// the same thing by its field (`max_views must be …`) and reports which field it was.
    static func apiWording(_ text: String) -> (String?, String) {
        var field: String?
        var result = text
        for (option, name) in optionFields where result.contains(option) {
            if field == nil, let range = result.range(of: option), range.lowerBound == result.startIndex {
                field = name
            }
            result = result.replacingOccurrences(of: option, with: name)
        }
        result = result.replacingOccurrences(of: "`retract list`", with: "GET /api/v1/messages")
            .replacingOccurrences(of: "`retract revoke`", with: "POST /api/v1/messages/{id}/revoke")
        return (field, result)
    }

    /// CLI options and the API fields that carry the same value, longest first.
    private static let optionFields: [(String, String)] = [
        ("--replace-subject", "replacement.subject"), ("--replace-attach", "replacement.attachments"),
        ("--replace-body", "replacement.body"), ("--max-views", "max_views"), ("--recipient", "recipients"),
        ("--expires", "expires"), ("--subject", "subject"), ("--locale", "locale"), ("--notify", "notify"),
        ("--reason", "reason"), ("--attach", "attachment"), ("--delay", "delay"), ("--body", "body"), ("--from", "from"), ("--bcc", "bcc"),
        ("--cc", "cc"), ("--to", "to"),
    ]
}
