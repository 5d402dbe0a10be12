import Foundation
import Hummingbird
import RetractCore
import Seal
import Sodium

/// The recipient's side: the interstitial page, opening a message, downloading attachments,
/// and asking for the verification code of a message sent with `verify`.
///
/// `GET` never opens, counts or mails anything, so mail scanners that prefetch links consume
/// nothing; the key (and the code) arrive only in a `POST` body, as JSON (API, CLI) or a
/// form (the page). Failed opens are also limited per client address when the request
/// context knows it (`ClientAddressRequestContext`).
struct ReaderController<Context: RequestContext>: Sendable {
    let service: RetractService
    let pages: PageRenderer

    /// Largest request body accepted on the open routes: a key is 43 characters.
    static var maxBodySize: Int { 4096 }

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get(":token", use: show)
            .post(":token/open", use: open)
            .post(":token/code", use: requestCode)
            .post(":token/attachments/:index", use: attachment)
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let accept = request.headers[.acceptLanguage]
        guard let token = token(context) else {
            return failurePage(.notFound, locale: PageLocale.negotiate(acceptLanguage: accept))
        }
        let (state, prompt) = await service.readerState(token: token)
        switch state {
        case .openable(let messageLocale):
            let locale = PageLocale.negotiate(acceptLanguage: accept, fallback: messageLocale)
            guard let prompt, !prompt.verified else { return pages.interstitial(token: token.base64url, locale: locale) }
            var values: [String: Any] = ["token": token.base64url]
            let v = VerificationPageStrings.table(locale)
            values["verify"] = true
            values["v"] = v
            values["verifyText"] = v["prompt"]!.replacingOccurrences(of: "{address}", with: prompt.maskedRecipient)
            return pages.page(
                "interstitial", locale: locale, title: PageStrings.table(locale)["interstitial_title"] ?? "",
                values: values, script: "open.js")
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
        let (key, code, wantsHTML) = try await readKey(request)
        let locale = PageLocale.negotiate(acceptLanguage: accept)
        guard let token = token(context) else { return failure(OpenFailure.notFound, html: wantsHTML, locale: locale) }
        do {
            let opened = try await service.open(token: token, linkKey: key, code: code, client: client(context))
            let pageLocale = PageLocale.negotiate(acceptLanguage: accept, fallback: opened.locale)
            return wantsHTML ? messagePage(opened, token: token, key: key, locale: pageLocale) : messageJSON(opened)
        } catch {
            return failure(error, html: wantsHTML, locale: locale, token: token, key: key)
        }
    }

    /// Mails a fresh verification code to the grant's recipient (needs the whole link).
    @Sendable func requestCode(_ request: Request, context: Context) async throws -> Response {
        let (key, _, wantsHTML) = try await readKey(request)
        let locale = PageLocale.negotiate(acceptLanguage: request.headers[.acceptLanguage])
        guard let token = token(context) else { return failure(OpenFailure.notFound, html: wantsHTML, locale: locale) }
        let sent: VerificationCodeSent?
        do {
            sent = try await service.requestVerificationCode(token: token, linkKey: key, client: client(context))
        } catch {
            return failure(error, html: wantsHTML, locale: locale, token: token, key: key)
        }
        guard wantsHTML else {
            return JSONResponse.make(
                .ok,
                CodeSentBody(
                    sentTo: sent?.maskedRecipient, expiresAt: sent?.expiresAt,
                    message: sent == nil ? "this message opens without a code" : "a code is on its way"))
        }
        guard let sent else { return pages.interstitial(token: token.base64url, locale: locale) }
        let v = VerificationPageStrings.table(locale)
        let text = v["code_sent"]!.replacingOccurrences(of: "{address}", with: sent.maskedRecipient)
            .replacingOccurrences(of: "{minutes}", with: String(Int(RetractService.verificationCodeLifetime / 60)))
        return codePage(status: .ok, token: token, key: key, locale: locale, sentText: text, error: nil)
    }

    @Sendable func attachment(_ request: Request, context: Context) async throws -> Response {
        let (key, code, wantsHTML) = try await readKey(request)
        let locale = PageLocale.negotiate(acceptLanguage: request.headers[.acceptLanguage])
        guard let token = token(context), let index = context.parameters.get("index").flatMap(Int.init), index >= 1
        else { return failure(OpenFailure.notFound, html: wantsHTML, locale: locale) }
        let download: AttachmentDownload
        do {
            download = try await service.downloadAttachment(
                token: token, linkKey: key, index: index, code: code, client: client(context))
        } catch {
            return failure(error, html: wantsHTML, locale: locale, token: token, key: key)
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

    /// The reader's address for the per-client limit (`ClientAddressResolver`): the
    /// connection's IP address, or the one a trusted proxy forwarded for; nil when the request
    /// context does not know it.
    private func client(_ context: Context) -> String? {
        (context as? any ClientAddressRequestContext)?.clientAddress
    }

    /// The open routes' request body.
    struct KeyBody: Decodable, Equatable {
        let key: String
        let code: String?
    }

    /// The body `{"key": "…"}` (whitespace allowed around the tokens) read without
    /// `JSONDecoder`, which was about 7% of an open's CPU; nil for anything else (a code, other
    /// members, escapes in the string), which then goes through `JSONDecoder` as before.
    ///
    /// Accepts only bodies `JSONDecoder` decodes to the same `KeyBody`: one object whose
    /// only member is `key`, a string of base64url characters.
    static func simpleKeyBody(_ buffer: ByteBuffer) -> KeyBody? {
        buffer.withUnsafeReadableBytes { bytes -> KeyBody? in
            var i = 0
            func skipSpace() {
                while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D {
                    i += 1
                }
            }
            func expect(_ text: StaticString) -> Bool {
                let count = text.utf8CodeUnitCount
                guard i + count <= bytes.count else { return false }
                for j in 0..<count where bytes[i + j] != text.utf8Start[j] { return false }
                i += count
                return true
            }
            skipSpace()
            guard expect("{") else { return nil }
            skipSpace()
            guard expect("\"key\"") else { return nil }
            skipSpace()
            guard expect(":") else { return nil }
            skipSpace()
            guard expect("\"") else { return nil }
            let start = i
            while i < bytes.count, Base64URL.isAlphabet(bytes[i]) { i += 1 }
            let end = i
            guard expect("\"") else { return nil }
            skipSpace()
            guard expect("}") else { return nil }
            skipSpace()
            guard i == bytes.count else { return nil }
            return KeyBody(key: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self), code: nil)
        }
    }

    /// The link key and the verification code (if any) from a JSON or form body, and
    /// whether the client wants HTML back.
    private func readKey(_ request: Request) async throws -> (LinkKey, String?, Bool) {
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
            } else if let fast = Self.simpleKeyBody(buffer) {
                body = fast
            } else {
                body = try JSONDecoder().decode(KeyBody.self, from: Data(buffer: buffer))
            }
        } catch {
            throw ReaderRequestError(
                status: .badRequest, code: "bad_request",
                message: isForm ? "the form must have a field key" : "the body must be JSON {\"key\": \"…\"}")
        }
        do {
            return (try LinkKey(base64url: body.key), body.code, isForm)
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
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body.json()))
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
        // A received mail: part 1 is the whole original, offered under its own label.
        if let original = envelope.attachments.first(where: {
            $0.index == 1 && $0.name == RetractService.originalMessageName && $0.mediaType == "message/rfc822"
        }) {
            values["original"] = ["index": original.index, "size": Self.displaySize(original.size)]
            values["attachments"] = attachments.filter { ($0["index"] as? Int) != original.index }
            values["hasAttachments"] = envelope.attachments.count > 1
            values["token"] = token.base64url
            values["key"] = key.base64url
        }
        guard let html = envelope.bodyHTML else {
            return pages.page("message", locale: locale, title: envelope.subject, values: values)
        }
        let frame = MailFrame(html: html, inlineImages: opened.inlineImages)
        values["hasHTML"] = true
        values["frameDocument"] = frame.escapedDocument
        let t = PageStrings.table(locale)
        if frame.result.remoteImagesBlocked > 0 {
            values["remoteBlocked"] = t["remote_images_blocked"]!.replacingOccurrences(
                of: "{count}", with: String(frame.result.remoteImagesBlocked))
        }
        if frame.result.inlineImagesMissing > 0 {
            values["inlineMissing"] = t["inline_images_missing"]!.replacingOccurrences(
                of: "{count}", with: String(frame.result.inlineImagesMissing))
        }
        var response = pages.page("message", locale: locale, title: envelope.subject, values: values)
        response.headers[SecurityHeadersMiddleware<Context>.mailFrameNonceField] = frame.nonce
        return response
    }

    private func failure(
        _ error: any Error, html: Bool, locale: PageLocale, token: GrantToken? = nil, key: LinkKey? = nil
    ) -> Response {
        let failure = error as? OpenFailure ?? .damaged
        if html, let token, let key {
            // A verification problem on the page: ask for the code again, keeping the key.
            let v = VerificationPageStrings.table(locale)
            switch failure {
            case .codeRequired(let masked):
                let text = v["code_required"]!.replacingOccurrences(of: "{address}", with: masked)
                return codePage(status: .forbidden, token: token, key: key, locale: locale, sentText: nil, error: text)
            case .invalidCode(let remaining):
                let text = v["invalid_code"]!.replacingOccurrences(of: "{remaining}", with: String(remaining))
                return codePage(status: .forbidden, token: token, key: key, locale: locale, sentText: nil, error: text)
            default:
                break
            }
        }
        return html ? failurePage(failure, locale: locale) : failureJSON(failure)
    }

    /// The page that asks for the mailed code; the key is carried in its forms because the
    /// URL after a form post has no fragment any more.
    private func codePage(
        status: HTTPResponse.Status, token: GrantToken, key: LinkKey, locale: PageLocale, sentText: String?,
        error: String?
    ) -> Response {
        let v = VerificationPageStrings.table(locale)
        var values: [String: Any] = ["token": token.base64url, "key": key.base64url, "v": v]
        if let sentText { values["sentText"] = sentText }
        if let error { values["error"] = error }
        return pages.page("verify-code", status: status, locale: locale, title: v["code_title"]!, values: values)
    }

    private func failureJSON(_ failure: OpenFailure) -> Response {
        var body = ErrorBody(error: failure.code, message: Self.message(failure))
        if case .revoked(let at, let reason, let replaced) = failure {
            body.revokedAt = at
            body.reason = reason
            body.replaced = replaced
        }
        if case .expired(let at) = failure { body.expiredAt = at }
        if case .codeRequired(let masked) = failure { body.sentTo = masked }
        if case .invalidCode(let remaining) = failure { body.remaining = remaining }
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
        case .codeRequired, .invalidCode:
            let v = VerificationPageStrings.table(locale)
            response = pages.notice(
                status: .forbidden, locale: locale, kind: "invalid-code", title: v["code_title"]!,
                text: t["invalid_key_text"]!)
        }
        return response
    }

    static func status(_ failure: OpenFailure) -> HTTPResponse.Status {
        switch failure {
        case .notFound: .notFound
        case .invalidKey, .codeRequired, .invalidCode: .forbidden
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
        case .tooManyAttempts: "too many failed attempts; try again after the Retry-After seconds"
        case .damaged: "the stored message failed its integrity check"
        case .codeRequired(let masked):
            "this message opens only with the 6-digit code mailed to \(masked): POST /m/{token}/code with the key, "
                + "then send {\"key\": …, \"code\": …}"
        case .invalidCode(let remaining):
            "the code is wrong, expired or used; \(remaining) more wrong codes lock this link for 15 minutes"
        }
    }

    /// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266).
    static func contentDisposition(fileName: String) -> String {
        let cleaned = AttachmentName.cleaned(fileName)
        let ascii = String(cleaned.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "%" ? Character($0) : "_" })
        let encoded = cleaned.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: ".-_"))) ?? ""
        return "attachment; filename=\"\(ascii.isEmpty ? "attachment" : ascii)\"; filename*=UTF-8''\(encoded)"
    }

    static func displaySize(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }
}
