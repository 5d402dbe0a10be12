import Foundation
import Hummingbird
import Mail
import NIOCore
import RetractCore

/// The sender API under `/api/v1`: send, list, show, revoke and cancel messages.
///
/// Every route runs as the sender `BearerAuthMiddleware` authenticated and sees only that
/// sender's messages (another sender's id is the same 404 as an unknown one). Failures are
/// RFC 9457 problems (`APIProblemMiddleware`). The routes come from `APIRoute`, the table
/// `docs/openapi.yaml` is checked against.
struct APIController: Sendable {
    let service: RetractService
    /// Largest request body accepted, attachments included (`RetractConfiguration.maxUploadSize`,
    /// `RETRACT_MAX_UPLOAD`, unless `buildRouter` was given another).
    let uploadLimit: Int

    /// Largest JSON body of the routes that take no files.
    static let maxJSONSize = 2 << 20

    /// The routes, one per `APIRoute`.
    var endpoints: RouteCollection<APIRequestContext> {
        let routes = RouteCollection(context: APIRequestContext.self)
        for route in APIRoute.allCases {
            routes.on(route.path, method: route.method, use: handler(route))
        }
        return routes
    }

    /// Mounts the API on a router: the problem and bearer middleware, then the routes, then
    /// the 405 for a method an API path does not serve; first clears upload folders a crash
    /// left behind.
    func register(on router: Router<RetractRequestContext>) {
        UploadDirectory.removeAll(in: UploadDirectory.root(dataDirectory: service.configuration.dataDirectory))
        router.group(RouterPath(APIRoute.prefix), context: APIRequestContext.self)
            .add(middleware: APIProblemMiddleware<APIRequestContext>())
            .add(middleware: BearerAuthMiddleware(service: service))
            .addRoutes(endpoints)
        router.add(middleware: APIMethodNotAllowedMiddleware())
    }

    private func handler(_ route: APIRoute) -> @Sendable (Request, APIRequestContext) async throws -> Response {
        switch route {
        case .createMessage: create
        case .listMessages: list
        case .showMessage: show
        case .revokeMessage: revoke
        case .cancelMessage: cancel
        }
    }

    // MARK: - Handlers

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireSender()
        let contentType = request.headers[.contentType] ?? ""
        let mediaType = HeaderParameters(contentType).value.lowercased()
        let form: MessageForm
        var uploads: UploadDirectory?
        defer { uploads?.remove() }
        switch mediaType {
        case "application/json":
            let fields = try JSONFields(try await readJSON(request))
            try fields.rejectNulls()
            form = try MessageForm(json: fields)
        case "multipart/form-data":
            let directory = try UploadDirectory(
                root: UploadDirectory.root(dataDirectory: service.configuration.dataDirectory),
                staging: service.uploadStaging)
            uploads = directory
            guard let reader = MultipartFormReader(
                    contentType: contentType, limit: uploadLimit, uploads: directory,
                    maxFiles: service.configuration.maxAttachments)
            else { throw APIProblem.malformedBody("the multipart/form-data content type has no boundary parameter") }
            form = try MessageForm(multipart: try await readMultipart(reader, request.body))
        default:
            throw APIProblem.unsupportedMediaType(
                "send the message as application/json, or as multipart/form-data to attach files")
        }
        var draft = try form.draft(for: account)
        draft.stagedUploads = service.uploadStaging
        let receipt: SendReceipt
        do {
            receipt = try await service.send(draft)
        } catch let error as RetractError where error.code == .blockedByFindings {
            throw APIProblem.blockedByFindings(form.findings(for: draft))
        }
        var response = JSONResponse.make(.created, CreatedMessage(receipt))
        response.headers[.location] = "\(APIRoute.prefix)/messages/\(receipt.messageID)"
        return response
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireSender()
        return JSONResponse.make(.ok, MessageList(messages: try service.list(sender: account.address)))
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireSender()
        let id = try messageID(context)
        return JSONResponse.make(.ok, try service.status(messageID: id, sender: account.address))
    }

    @Sendable func revoke(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireSender()
        let id = try messageID(context)
        let revokeRequest = try await revokeRequest(request, messageID: id)
        return JSONResponse.make(.ok, try await service.revoke(revokeRequest, sender: account.address))
    }

    @Sendable func cancel(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireSender()
        let id = try messageID(context)
        return JSONResponse.make(.ok, try await service.cancel(messageID: id, sender: account.address))
    }

    // MARK: - Requests

    private func messageID(_ context: APIRequestContext) throws(APIProblem) -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty else { throw .messageNotFound("") }
        return id
    }

    /// A multipart body through the shared reader, its failures as problems: 413 over the
    /// limit, 400 for broken framing, 400 naming the field for an over-long or non-UTF-8 text.
    private func readMultipart(_ reader: MultipartFormReader, _ body: RequestBody) async throws -> WebForm {
        do {
            return try await reader.read(body)
        } catch {
            switch error {
            case .tooLarge:
                throw APIProblem.tooLarge(limit: uploadLimit, hint: APIProblem.uploadHint)
            case .malformed:
                throw APIProblem.malformedBody(
                    "the multipart body is malformed: every part needs its --boundary line and Content-Disposition: form-data; name=\"…\", and the body its closing --boundary--"
                )
            case .fieldTooLong(let name):
                throw APIProblem.invalidField(name, "\(name) is longer than \(MultipartFormReader.maxFieldBytes) bytes")
            case .notText(let name):
                throw APIProblem.invalidField(name, "\(name) is not UTF-8 text")
            case .tooManyFiles(let limit):
                throw APIProblem.invalidField(
                    "attachment", "more than \(limit) attachment parts; at most \(limit) are allowed (RETRACT_MAX_ATTACHMENTS)")
            case .storage(let failure):
                throw failure
            case .refused:
                // The API admits every file (its bearer token was checked before the body).
                throw APIProblem.malformedBody("the multipart body was refused")
            }
        }
    }

    /// A JSON body of at most `maxJSONSize` bytes (and the upload limit); larger is a 413,
    /// unparseable a 400.
    private func readJSON(_ request: Request) async throws -> JSONValue {
        let limit = min(uploadLimit, Self.maxJSONSize)
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIProblem.tooLarge(
                limit: limit, hint: limit < Self.maxJSONSize ? APIProblem.uploadHint : APIProblem.jsonHint)
        }
        return try JSONValue.parse(Data(buffer: buffer))
    }

    /// `{recipients, reason, notify, replacement: {subject, body}}`; an empty body revokes
    /// every recipient with notices to all.
    private func revokeRequest(_ request: Request, messageID: String) async throws -> RevokeRequest {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maxJSONSize)
        } catch is NIOTooManyBytesError {
            throw APIProblem.tooLarge(limit: Self.maxJSONSize, hint: APIProblem.jsonHint)
        }
        guard buffer.readableBytes > 0 else { return RevokeRequest(messageID: messageID) }
        let mediaType = HeaderParameters(request.headers[.contentType] ?? "").value.lowercased()
        guard mediaType == "application/json" else {
            throw APIProblem.unsupportedMediaType("send the revocation as application/json")
        }
        let fields = try JSONFields(try JSONValue.parse(Data(buffer: buffer)))
        try fields.rejectUnknown(allowed: ["recipients", "reason", "notify", "notify_sender", "replacement"])
        try fields.rejectNulls()
        var notify = RevokeRequest.NoticePolicy.all
        if let text = try fields.string("notify") {
            guard let policy = RevokeRequest.NoticePolicy(rawValue: text) else {
                throw APIProblem.invalidField("notify", "notify must be one of all, opened, none")
            }
            notify = policy
        }
        var notifySender = true
        if let text = try fields.string("notify_sender") {
            guard ["report", "none"].contains(text) else {
                throw APIProblem.invalidField("notify_sender", "notify_sender must be one of report, none")
            }
            notifySender = text == "report"
        }
        var replacement: RevokeRequest.Replacement?
        if let object = try fields.object("replacement") {
            try object.rejectUnknown(allowed: ["subject", "body"])
            try object.rejectNulls()
            guard let body = try object.string("body") else {
                throw APIProblem.invalidField(
                    "replacement.body", "replacement.body is missing; give the corrected text")
            }
            replacement = .init(subject: try object.string("subject"), body: body)
        }
        return RevokeRequest(
            messageID: messageID, recipients: try fields.strings("recipients"), reason: try fields.string("reason"),
            notify: notify, replacement: replacement, notifySender: notifySender)
    }

    // MARK: - Responses

    /// The answer to `POST /messages`: the id, each recipient's delivery and the findings.
    /// Personal links are never in it: they are secret and reach only their recipient.
    struct CreatedMessage: Encodable {
        struct Recipient: Encodable {
            let address: String
            let kind: String
            let delivery: String
        }

        let id: String
        let recipients: [Recipient]
        let findings: [Finding]
        let deliverAfter: Date
        let expiresAt: Date?

        init(_ receipt: SendReceipt) {
            id = receipt.messageID
            recipients = receipt.recipients.map { .init(address: $0.address, kind: $0.kind, delivery: $0.delivery) }
            findings = receipt.findings
            deliverAfter = receipt.deliverAfter
            expiresAt = receipt.expiresAt
        }
    }

    /// The answer to `GET /messages`.
    struct MessageList: Encodable {
        let messages: [MessageSummary]
    }
}
