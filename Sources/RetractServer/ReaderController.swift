import Foundation
import Hummingbird
import RetractCore
import Seal

/// The recipient's side: the interstitial page, opening a message, downloading attachments.
///
/// `GET` never opens or counts anything, so mail scanners that prefetch links consume
/// nothing; the key arrives only in a `POST` body, as JSON (API, CLI) or a form (the page).
struct ReaderController<Context: RequestContext>: Sendable {
    let service: RetractService
    let pages: PageRenderer

    /// Largest request body accepted on the open routes: a key is 43 characters.
    static var maxBodySize: Int { 4096 }

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get(":token", use: show)
            .post(":token/open", use: open)
            .post(":token/attachments/:index", use: attachment)
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let accept = request.headers[.acceptLanguage]
        guard let token = token(context) else {
            return failurePage(.notFound, locale: PageLocale.negotiate(acceptLanguage: accept))
        }
        switch await service.linkState(token: token) {
        case .openable(let messageLocale):
            let locale = PageLocale.negotiate(acceptLanguage: accept, fallback: messageLocale)
            return pages.page(
                "interstitial", locale: locale, title: PageStrings.table(locale)["interstitial_title"] ?? "",
                values: ["token": token.base64url], script: "open.js")
        case .notFound:
            return failurePage(.notFound, locale: PageLocale.negotiate(acceptLanguage: accept))
        case .revoked(let at, let reason, let replaced, let messageLocale):
            return failurePage(
                .revoked(at: at, reason: reason, replaced: replaced),
                locale: PageLocale.negotiate(acceptLanguage: accept, fallback: messageLocale))
        case .expired(let at, let messageLocale):
            let locale = PageLocale.negotiate(acceptLanguage: accept, fallback: messageLocale)
            return failurePage(at.map { .expired(at: $0) } ?? .viewsExhausted, locale: locale)
        }
    }

    @Sendable func open(_ request: Request, context: Context) async throws -> Response {
        let accept = request.headers[.acceptLanguage]
        let (key, wantsHTML) = try await readKey(request)
        let locale = PageLocale.negotiate(acceptLanguage: accept)
        guard let token = token(context) else { return failure(OpenFailure.notFound, html: wantsHTML, locale: locale) }
        do {
            let opened = try await service.open(token: token, linkKey: key)
            let pageLocale = PageLocale.negotiate(acceptLanguage: accept, fallback: opened.locale)
            return wantsHTML ? messagePage(opened, token: token, key: key, locale: pageLocale) : messageJSON(opened)
        } catch {
            return failure(error, html: wantsHTML, locale: locale)
        }
    }

    @Sendable func attachment(_ request: Request, context: Context) async throws -> Response {
        let (key, wantsHTML) = try await readKey(request)
        let locale = PageLocale.negotiate(acceptLanguage: request.headers[.acceptLanguage])
        guard let token = token(context), let index = context.parameters.get("index").flatMap(Int.init), index >= 1
        else { return failure(OpenFailure.notFound, html: wantsHTML, locale: locale) }
        let download: AttachmentDownload
        do {
            download = try await service.downloadAttachment(token: token, linkKey: key, index: index)
        } catch {
            return failure(error, html: wantsHTML, locale: locale)
        }
        var headers: HTTPFields = [
            .contentType: download.mediaType,
            .contentDisposition: Self.contentDisposition(fileName: download.name),
        ]
        headers[.contentLength] = String(download.size)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody(contentLength: Int(download.size)) { writer in
                while let chunk = try await download.nextChunk() {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
    }

    // MARK: - Requests

    private func token(_ context: Context) -> GrantToken? {
        context.parameters.get("token").flatMap { try? GrantToken(base64url: $0) }
    }

    private struct KeyBody: Decodable {
        let key: String
    }

    /// The link key from a JSON or form body, and whether the client wants HTML back.
    private func readKey(_ request: Request) async throws -> (LinkKey, Bool) {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let isForm = contentType.hasPrefix("application/x-www-form-urlencoded")
        guard isForm || contentType.hasPrefix("application/json") else {
            throw ReaderRequestError(
                status: .unsupportedMediaType, code: "bad_request",
                message: "send the key as JSON {\"key\": \"…\"} or as a form field key=…")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maxBodySize)
        } catch {
            throw ReaderRequestError(status: .contentTooLarge, code: "bad_request", message: "the request body is too large")
        }
        let body: KeyBody
        do {
            if isForm {
                body = try URLEncodedFormDecoder().decode(KeyBody.self, from: String(buffer: buffer))
            } else {
                body = try JSONDecoder().decode(KeyBody.self, from: Data(buffer: buffer))
            }
        } catch {
            throw ReaderRequestError(
                status: .badRequest, code: "bad_request",
                message: isForm ? "the form must have a field key" : "the body must be JSON {\"key\": \"…\"}")
        }
        do {
            return (try LinkKey(base64url: body.key), isForm)
        } catch {
            throw ReaderRequestError(
                status: .badRequest, code: "malformed_key",
                message: "the key must be the 43 base64url characters after # in the link")
        }
    }

    // MARK: - Responses

    private func messageJSON(_ opened: OpenedMessage) -> Response {
        let envelope = opened.envelope
        let body = OpenedMessageBody(
            subject: envelope.subject, from: envelope.fromName.map { "\($0) <\(envelope.from)>" } ?? envelope.from,
            sentAt: envelope.sentAt, bodyText: envelope.bodyText, to: envelope.to, cc: envelope.cc,
            attachments: envelope.attachments.map {
                .init(index: $0.index, name: $0.name, size: $0.size, mediaType: $0.mediaType)
            })
        return JSONResponse.make(.ok, body)
    }

    private func messagePage(_ opened: OpenedMessage, token: GrantToken, key: LinkKey, locale: PageLocale) -> Response {
        let envelope = opened.envelope
        let attachments: [[String: Any]] = envelope.attachments.map {
            ["index": $0.index, "name": $0.name, "size": Self.displaySize($0.size), "token": token.base64url,
             "key": key.base64url]
        }
        var values: [String: Any] = [
            "subject": envelope.subject,
            "from": envelope.fromName.map { "\($0) <\(envelope.from)>" } ?? envelope.from,
            "sentAt": PageRenderer.displayDate(envelope.sentAt),
            "sentAtISO": ISO8601DateFormatter().string(from: envelope.sentAt),
            "body": envelope.bodyText,
            "attachments": attachments,
            "hasAttachments": !attachments.isEmpty,
        ]
        if !envelope.to.isEmpty { values["to"] = envelope.to.joined(separator: ", ") }
        if !envelope.cc.isEmpty { values["cc"] = envelope.cc.joined(separator: ", ") }
        return pages.page("message", locale: locale, title: envelope.subject, values: values)
    }

    private func failure(_ error: any Error, html: Bool, locale: PageLocale) -> Response {
        let failure = error as? OpenFailure ?? .damaged
        return html ? failurePage(failure, locale: locale) : failureJSON(failure)
    }

    private func failureJSON(_ failure: OpenFailure) -> Response {
        var body = ErrorBody(error: failure.code, message: Self.message(failure))
        if case .revoked(let at, let reason, let replaced) = failure {
            body.revokedAt = at
            body.reason = reason
            body.replaced = replaced
        }
        if case .expired(let at) = failure { body.expiredAt = at }
        var response = JSONResponse.make(Self.status(failure), body)
        if case .tooManyAttempts(let retryAfter) = failure {
            response.headers[.retryAfter] = String(retryAfter)
        }
        return response
    }

    private func failurePage(_ failure: OpenFailure, locale: PageLocale) -> Response {
        let t = PageStrings.table(locale)
        var response: Response
        switch failure {
        case .notFound:
            response = pages.notice(
                status: .notFound, locale: locale, kind: "not-found", title: t["not_found_title"]!,
                text: t["not_found_text"]!)
        case .revoked(let at, let reason, let replaced):
            response = pages.notice(
                status: .gone, locale: locale, kind: "revoked", title: t["revoked_title"]!,
                text: t["revoked_text"]!.replacingOccurrences(of: "{date}", with: PageRenderer.displayDate(at)),
                reason: reason, replaced: replaced)
        case .expired:
            response = pages.notice(
                status: .gone, locale: locale, kind: "expired", title: t["expired_title"]!, text: t["expired_text"]!)
        case .viewsExhausted:
            response = pages.notice(
                status: .gone, locale: locale, kind: "expired", title: t["expired_title"]!, text: t["views_text"]!)
        case .invalidKey:
            response = pages.notice(
                status: .forbidden, locale: locale, kind: "invalid-key", title: t["invalid_key_title"]!,
                text: t["invalid_key_text"]!)
        case .tooManyAttempts(let retryAfter):
            response = pages.notice(
                status: .tooManyRequests, locale: locale, kind: "too-many", title: t["too_many_title"]!,
                text: t["too_many_text"]!)
            response.headers[.retryAfter] = String(retryAfter)
        case .damaged:
            response = pages.notice(
                status: .unprocessableContent, locale: locale, kind: "damaged", title: t["damaged_title"]!,
                text: t["damaged_text"]!)
        }
        return response
    }

    static func status(_ failure: OpenFailure) -> HTTPResponse.Status {
        switch failure {
        case .notFound: .notFound
        case .invalidKey: .forbidden
        case .revoked, .expired, .viewsExhausted: .gone
        case .tooManyAttempts: .tooManyRequests
        case .damaged: .unprocessableContent
        }
    }

    static func message(_ failure: OpenFailure) -> String {
        switch failure {
        case .notFound: "no such link"
        case .invalidKey: "this key does not open this link"
        case .revoked: "the sender withdrew this message"
        case .expired: "this link has expired"
        case .viewsExhausted: "this link was opened as many times as the sender allowed"
        case .tooManyAttempts: "too many wrong keys for this link; try again later"
        case .damaged: "the stored message failed its integrity check"
        }
    }

    /// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266).
    static func contentDisposition(fileName: String) -> String {
        let cleaned = String(fileName.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\u{7F}" && $0 != "/" && $0 != "\\" })
        let ascii = String(cleaned.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "%" ? Character($0) : "_" })
        let encoded = cleaned.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: ".-_"))) ?? ""
        return "attachment; filename=\"\(ascii.isEmpty ? "attachment" : ascii)\"; filename*=UTF-8''\(encoded)"
    }

    static func displaySize(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }
}
