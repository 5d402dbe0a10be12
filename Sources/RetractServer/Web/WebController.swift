import Foundation
import Hummingbird
import RetractCore

/// The sender web app under `/app`: sign-in, compose → check → send, undo inside the send
/// delay, the sent list, a message's state, revoke with a notice preview, the recall report.
///
/// Every page is rendered on the server; forms post back here. A POST that a browser marks
/// as coming from another site (`SameOriginPolicy`) is refused with 403 before anything
/// else; each form carries a CSRF token that is checked before anything is done or stored
/// (403 without it; the compose form's comes before its files). A request without
/// a live session is sent to the sign-in page. A message of another sender answers 404,
/// exactly like a missing one.
struct WebController<Context: RequestContext>: Sendable {
    let service: RetractService
    let pages: WebPages
    let options: WebAppOptions
    let uploads: PendingUploads
    /// Largest compose request: the options' override, else the configuration's limit.
    let maxUploadBytes: Int

    /// The session cookie.
    static var sessionCookie: String { "retract_session" }
    /// The language choice cookie.
    static var localeCookie: String { "retract_locale" }
    /// The sign-in form's CSRF cookie (double submit: there is no session yet to derive from).
    static var signInCookie: String { "retract_signin" }
    /// Largest URL-encoded form accepted (a revocation with a corrected text).
    static var maxFormBytes: Int { 2 << 20 }

    init(service: RetractService, renderer: PageRenderer, options: WebAppOptions) {
        self.service = service
        self.pages = WebPages(renderer: renderer)
        self.options = options
        self.uploads = PendingUploads(
            root: options.uploadDirectory ?? UploadDirectory.root(dataDirectory: service.configuration.dataDirectory),
            lifetime: options.uploadLifetime, staging: service.uploadStaging)
        self.maxUploadBytes = options.maxUploadBytes ?? service.configuration.maxUploadSize
    }

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .add(
                middleware: SameOriginMiddleware(
                    policy: SameOriginPolicy(publicURL: service.configuration.publicURL),
                    refusal: { request in forbidden(viewer(request, session: nil)) }))
            .get("", use: home)
            .get("sign-in", use: signInPage)
            .post("sign-in", use: signIn)
            .post("sign-out", use: signOut)
            .get("manage", use: managePage)
            .post("manage", use: manage)
            .get("locale", use: switchLocale)
            .get("compose", use: composePage)
            .post("compose", use: compose)
            .get("messages", use: list)
            .get("messages/:id", use: message)
            .post("messages/:id/cancel", use: cancel)
            .post("messages/:id/revoke", use: revoke)
    }

    // MARK: - Sessions

    /// A signed-in request: the session, its cookie and the viewer for the pages.
    struct Visit {
        var session: WebSessionState
        var cookie: String
        var viewer: WebPages.Viewer
        var address: String { session.account.address }
    }

    private func viewer(_ request: Request, session: WebSessionState?) -> WebPages.Viewer {
        var locale = PageLocale.negotiate(acceptLanguage: request.headers[.acceptLanguage])
        if let chosen = session?.locale.flatMap(PageLocale.init(rawValue:)) { locale = chosen }
        if let cookie = request.cookies[Self.localeCookie]?.value, let chosen = PageLocale(rawValue: cookie) {
            locale = chosen
        }
        return WebPages.Viewer(locale: locale, session: session, path: request.uri.path)
    }

    /// The live session of the request, or the redirect to the sign-in page.
    ///
    /// A session begun with a manage link counts only on the pages of its own message
    /// (`message` is the id the route names, nil for pages of no one message), and on any
    /// page with `anyScope` (signing out): anywhere else its sender must sign in with the
    /// password.
    private func visit(_ request: Request, message: String? = nil, anyScope: Bool = false) async -> Result<
        Visit, Redirect
    > {
        let cookie = request.cookies[Self.sessionCookie]?.value ?? ""
        guard !cookie.isEmpty, let session = await service.webSession(cookieValue: cookie),
            anyScope || session.messageScope == nil || session.messageScope == message
        else {
            let next = request.method == .get ? request.uri.path : Self.pageAfterSignIn(forPost: request.uri.path)
            var location = "/app/sign-in?next=\(WebPages.queryEscaped(next))"
            if !cookie.isEmpty { location += "&notice=expired" }
            return .failure(Redirect(location: location))
        }
        return .success(Visit(session: session, cookie: cookie, viewer: viewer(request, session: session)))
    }

    /// A redirect to the sign-in page (a `Result` failure, so `visit` reads as a guard).
    struct Redirect: Error {
        var location: String
        var response: Response { .redirect(to: location, type: .normal) }
    }

    /// Where a POST that found no session should come back to after signing in.
    static func pageAfterSignIn(forPost path: String) -> String {
        if path.hasPrefix("/app/messages/") {
            return String(path.split(separator: "/").prefix(3).joined(separator: "/")).withLeadingSlash
        }
        return path.hasPrefix("/app/compose") ? "/app/compose" : "/app/messages"
    }

    /// Only paths inside the app: never another origin (`//host`) or scheme.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/app"), !next.hasPrefix("//"), !next.contains("\\"),
            !next.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true })
        else { return "/app/messages" }
        return next
    }

    private func forbidden(_ viewer: WebPages.Viewer) -> Response { errorPage(.forbidden, "forbidden", viewer) }

    private func notFound(_ viewer: WebPages.Viewer) -> Response { errorPage(.notFound, "not_found", viewer) }

    private func badForm(_ viewer: WebPages.Viewer) -> Response { errorPage(.badRequest, "bad_form", viewer) }

    /// A page with the strings `app_<name>_title` and `app_<name>_text` and a link back to the list.
    private func errorPage(_ status: HTTPResponse.Status, _ name: String, _ viewer: WebPages.Viewer) -> Response {
        pages.message(
            status: status, viewer: viewer, title: viewer.text("app_\(name)_title"),
            text: viewer.text("app_\(name)_text"), back: ("/app/messages", viewer.text("app_back_to_list")))
    }

    private func tooLarge(_ viewer: WebPages.Viewer) -> Response {
        pages.message(
            status: .contentTooLarge, viewer: viewer, title: viewer.text("app_too_large_title"),
            text: viewer.text("app_too_large_text", ["limit": WebPages.sizeText(maxUploadBytes)]),
            back: ("/app/compose", viewer.text("app_compose")))
    }

    /// Reads a URL-encoded form and checks its CSRF token; nil when the form is unreadable
    /// or the token is missing or wrong (the caller answers 403).
    private func checkedForm(_ request: Request, visit: Visit) async -> WebForm? {
        guard let form = await urlEncodedForm(request), visit.session.accepts(csrfToken: form["csrf"]) else {
            return nil
        }
        return form
    }

    private func urlEncodedForm(_ request: Request) async -> WebForm? {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else { return nil }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: Self.maxFormBytes) else { return nil }
        return WebForm(urlEncoded: String(buffer: buffer))
    }

    /// The client address for the per-client sign-in limit (`ClientAddressResolver`): the
    /// connection's IP address, or the one a trusted proxy forwarded for.
    ///
    /// Nil only when the context knows no IP peer (router tests, which have no connection):
    /// the core then applies the per-account limit alone, because one shared bucket would let
    /// 20 wrong passwords from anyone lock every sender out.
    private func clientAddress(_ context: Context) -> String? {
        (context as? any ClientAddressRequestContext)?.clientAddress
    }

    private func cookie(_ name: String, _ value: String, path: String = "/", maxAge: Int? = nil) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: path,
            secure: service.configuration.publicURL.lowercased().hasPrefix("https://"), httpOnly: true,
            sameSite: .strict)
    }

    // MARK: - Sign-in

    @Sendable func home(_ request: Request, context: Context) async throws -> Response {
        .redirect(to: "/app/messages", type: .normal)
    }

    @Sendable func signInPage(_ request: Request, context: Context) async throws -> Response {
        let cookieValue = request.cookies[Self.sessionCookie]?.value ?? ""
        if !cookieValue.isEmpty, let session = await service.webSession(cookieValue: cookieValue),
            session.messageScope == nil
        {
            return .redirect(to: Self.safeNext(request.uri.queryParameters.get("next")), type: .normal)
        }
        let viewer = viewer(request, session: nil)
        let notice = request.uri.queryParameters.get("notice").flatMap { code -> String? in
            ["expired": "app_notice_expired", "signed-out": "app_notice_signed_out"][code].map { viewer.text($0) }
        }
        return signInForm(
            request, viewer: viewer, status: .ok, notice: notice, error: nil, address: "",
            next: request.uri.queryParameters.get("next"))
    }

    private func signInForm(
        _ request: Request, viewer: WebPages.Viewer, status: HTTPResponse.Status, notice: String?, error: String?,
        address: String, next: String?
    ) -> Response {
        let token = preSessionToken(request)
        var values: [String: Any] = ["signInToken": token, "address": address, "next": Self.safeNext(next)]
        if let error { values["error"] = error }
        var response = pages.page(
            "app-sign-in", status: status, viewer: viewer, title: viewer.text("app_sign_in_title"), notice: notice,
            values: values)
        response.setCookie(cookie(Self.signInCookie, token, path: "/app"))
        return response
    }

    /// The CSRF token of a form posted before there is a session (sign-in, manage link): the
    /// browser's double-submit cookie, or a fresh one.
    private func preSessionToken(_ request: Request) -> String {
        request.cookies[Self.signInCookie]?.value.nonEmpty ?? PendingUploads.randomID()
    }

    /// A URL-encoded form posted before there is a session whose CSRF field matches its
    /// double-submit cookie (compared in constant time); nil otherwise (the caller answers 403).
    private func preSessionForm(_ request: Request) async -> WebForm? {
        let expected = request.cookies[Self.signInCookie]?.value ?? ""
        guard let form = await urlEncodedForm(request), !expected.isEmpty, ConstantTime.equals(form["csrf"], expected)
        else { return nil }
        return form
    }

    @Sendable func signIn(_ request: Request, context: Context) async throws -> Response {
        let viewer = viewer(request, session: nil)
        guard let form = await preSessionForm(request) else { return forbidden(viewer) }
        let address = form["address"].trimmingCharacters(in: .whitespacesAndNewlines)
        let password = form["password"]
        guard !address.isEmpty, !password.isEmpty else {
            return signInForm(
                request, viewer: viewer, status: .unprocessableContent, notice: nil,
                error: viewer.text("app_sign_in_missing"), address: address, next: form["next"])
        }
        do {
            let signedIn = try await service.signIn(
                address: address, password: password, client: clientAddress(context))
            var response = Response.redirect(to: Self.safeNext(form["next"]), type: .normal)
            response.setCookie(cookie(Self.sessionCookie, signedIn.cookieValue))
            return response
        } catch .invalidCredentials {
            return signInForm(
                request, viewer: viewer, status: .unauthorized, notice: nil, error: viewer.text("app_sign_in_wrong"),
                address: address, next: form["next"])
        } catch .tooManyAttempts(let retryAfter) {
            var response = pages.message(
                status: .tooManyRequests, viewer: viewer, title: viewer.text("app_too_many_title"),
                text: viewer.text("app_too_many_text", ["minutes": String(max(1, (retryAfter + 59) / 60))]),
                back: ("/app/sign-in", viewer.text("app_sign_in_title")))
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
    }

    // MARK: - Manage links

    /// The page a receipt's manage link opens. The capability is in the fragment, which the
    /// browser never sends: `app.js` puts it into the form and submits it (the button does
    /// the same by hand), then takes it out of the address bar and the history.
    @Sendable func managePage(_ request: Request, context: Context) async throws -> Response {
        let viewer = viewer(request, session: nil)
        let token = preSessionToken(request)
        var response = pages.page(
            "app-manage", viewer: viewer, title: viewer.text("app_manage_title"), values: ["signInToken": token])
        response.setCookie(cookie(Self.signInCookie, token, path: "/app"))
        return response
    }

    /// Exchanges a manage link's capability for a web session limited to its message, and
    /// goes to the message's page; an unknown, expired or withdrawn link gets one answer (404).
    @Sendable func manage(_ request: Request, context: Context) async throws -> Response {
        let viewer = viewer(request, session: nil)
        guard let form = await preSessionForm(request) else { return forbidden(viewer) }
        do {
            let signedIn = try await service.beginManageSession(
                capability: form["capability"], client: clientAddress(context))
            var response = Response.redirect(to: "/app/messages/\(signedIn.messageScope ?? "")", type: .normal)
            response.setCookie(cookie(Self.sessionCookie, signedIn.cookieValue))
            return response
        } catch {
            return pages.message(
                status: .notFound, viewer: viewer, title: viewer.text("app_manage_invalid_title"),
                text: viewer.text("app_manage_invalid_text"), back: ("/app/sign-in", viewer.text("app_sign_in_title")))
        }
    }

    @Sendable func signOut(_ request: Request, context: Context) async throws -> Response {
        let visit: Visit
        switch await self.visit(request, anyScope: true) {
        case .success(let found): visit = found
        case .failure(let redirect): return redirect.response
        }
        guard await checkedForm(request, visit: visit) != nil else { return forbidden(visit.viewer) }
        await service.signOut(cookieValue: visit.cookie)
        var response = Response.redirect(to: "/app/sign-in?notice=signed-out", type: .normal)
        response.setCookie(cookie(Self.sessionCookie, "", maxAge: 0))
        return response
    }

    /// Stores the language choice in a cookie (and in the session when there is one) and
    /// goes back to the page it came from. A GET link, so it works before signing in; it
    /// changes nothing but the language.
    @Sendable func switchLocale(_ request: Request, context: Context) async throws -> Response {
        guard let locale = request.uri.queryParameters.get("to").flatMap(PageLocale.init(rawValue:)) else {
            return badForm(viewer(request, session: nil))
        }
        var response = Response.redirect(to: Self.safeNext(request.uri.queryParameters.get("next")), type: .normal)
        response.setCookie(cookie(Self.localeCookie, locale.rawValue, maxAge: 365 * 86_400))
        if let value = request.cookies[Self.sessionCookie]?.value, !value.isEmpty {
            await service.setWebSessionLocale(cookieValue: value, locale: locale.rawValue)
        }
        return response
    }

    // MARK: - Compose

    /// The compose form's fields, as typed (so a refused draft comes back intact).
    struct DraftFields {
        var to = ""
        var cc = ""
        var bcc = ""
        var subject = ""
        var body = ""
        var expires = ""
        var maxViews = ""
        var delay = ""
        var locale = ""
        var verify = false
        var upload = ""

        init() {}

        init(_ form: WebForm) {
            to = form["to"]
            cc = form["cc"]
            bcc = form["bcc"]
            subject = form["subject"]
            body = form["body"]
            expires = form["expires"]
            maxViews = form["max_views"]
            delay = form["delay"]
            locale = form["locale"]
            verify = form["verify"] == "on" || form["verify"] == "true"
            upload = form["upload"]
        }

        var values: [String: Any] {
            [
                "to": to, "cc": cc, "bcc": bcc, "subject": subject, "body": body, "expires": expires,
                "maxViews": maxViews, "delay": delay, "localeEN": locale != "zh-Hans", "localeZH": locale == "zh-Hans",
                "verify": verify, "upload": upload,
            ]
        }

        static func addresses(_ text: String) -> [String] {
            text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "\n" || $0 == "\r" })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        var recipients: [String] { Self.addresses(to) + Self.addresses(cc) + Self.addresses(bcc) }
    }

    @Sendable func composePage(_ request: Request, context: Context) async throws -> Response {
        let visit: Visit
        switch await self.visit(request) {
        case .success(let found): visit = found
        case .failure(let redirect): return redirect.response
        }
        var fields = DraftFields()
        fields.locale = visit.viewer.locale.rawValue
        return composeForm(visit, fields: fields, kept: [], error: nil, status: .ok)
    }

    private func composeForm(
        _ visit: Visit, fields: DraftFields, kept: [WebForm.File], error: String?, status: HTTPResponse.Status
    ) -> Response {
        let viewer = visit.viewer
        let configuration = service.configuration
        var values = fields.values
        values["attachmentsHint"] = viewer.text(
            "app_attachments_hint", ["limit": WebPages.sizeText(maxUploadBytes)])
        values["expiresHint"] = viewer.text(
            "app_expires_hint", ["default": WebPages.durationText(configuration.defaultExpiry)])
        values["delayHint"] = viewer.text(
            "app_delay_hint", ["default": WebPages.durationText(configuration.defaultSendDelay)])
        values["kept"] = kept.map { ["name": $0.name, "size": WebPages.sizeText($0.size)] }
        values["hasKept"] = !kept.isEmpty
        values["draftKeeper"] = true
        if let error { values["error"] = error }
        return pages.page(
            "app-compose", status: status, viewer: viewer, title: viewer.text("app_compose_title"), values: values)
    }

    @Sendable func compose(_ request: Request, context: Context) async throws -> Response {
        let visit: Visit
        switch await self.visit(request) {
        case .success(let found): visit = found
        case .failure(let redirect): return redirect.response
        }
        let viewer = visit.viewer
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxUploadBytes {
            return tooLarge(viewer)
        }
        let folder = try uploads.newFolder()
        let form: WebForm
        let contentType = request.headers[.contentType] ?? ""
        if let reader = MultipartFormReader(
            contentType: contentType, limit: maxUploadBytes, uploads: folder,
            maxFiles: service.configuration.maxAttachments) {
            do {
                // The token must come before the first file (the form's first field), so
                // no byte of an upload is stored for a request that does not carry it.
                let session = visit.session
                form = try await reader.read(request.body) { session.accepts(csrfToken: $0["csrf"]) }
            } catch {
                folder.remove()
                switch error {
                case .tooLarge, .fieldTooLong: return tooLarge(viewer)
                case .refused: return forbidden(viewer)
                default: return badForm(viewer)
                }
            }
        } else if let parsed = await urlEncodedForm(request) {
            form = parsed
        } else {
            folder.remove()
            return badForm(viewer)
        }
        guard visit.session.accepts(csrfToken: form["csrf"]) else {
            folder.remove()
            return forbidden(viewer)
        }
        var fields = DraftFields(form)
        let previous = fields.upload.isEmpty ? nil : fields.upload
        if let previous, form["keep_attachments"] != "on" {
            await uploads.remove(previous, sender: visit.address)
        }
        let files = form.files.filter { $0.field == "attachments" }
        let keptID = await uploads.keep(
            files: files, folder: folder.url, adding: form["keep_attachments"] == "on" ? previous : nil,
            sender: visit.address)
        fields.upload = keptID ?? ""
        let kept = await keptID.asyncMap { await uploads.files($0, sender: visit.address) } ?? []
        if let previous, form["keep_attachments"] == "on", keptID != previous {
            // The kept files expired (or were never this sender's): never send without them.
            return composeForm(
                visit, fields: fields, kept: kept, error: visit.viewer.text("app_uploads_expired"),
                status: .unprocessableContent)
        }

        if form["action"] == "edit" {
            return composeForm(visit, fields: fields, kept: kept, error: nil, status: .ok)
        }
        let draft: Draft
        switch self.draft(visit, fields: fields, kept: kept) {
        case .success(let checked): draft = checked
        case .failure(let error): return composeFailed(visit, fields: fields, kept: kept, reason: error.description)
        }
        if form["action"] == "send" {
            return await send(visit, draft: draft, fields: fields, kept: kept)
        }
        return review(visit, draft: draft, fields: fields, kept: kept)
    }

    /// The draft's options, checked; a message for the sender when one is wrong.
    private func draft(_ visit: Visit, fields: DraftFields, kept: [WebForm.File]) -> Result<Draft, RetractError> {
        do throws(RetractError) {
            let expires = try fields.expires.nonEmpty.map { text throws(RetractError) in
                try DurationText.seconds(text, option: visit.viewer.text("app_expires"), bounds: .expiry)
            }
            let delay = try fields.delay.nonEmpty.map { text throws(RetractError) in
                try DurationText.seconds(text, option: visit.viewer.text("app_delay"), bounds: .delay)
            }
            var maxViews: Int?
            if let text = fields.maxViews.trimmingCharacters(in: .whitespaces).nonEmpty {
                guard let value = Int(text), value >= 1 else {
                    throw RetractError.invalidInput("\(visit.viewer.text("app_max_views")): 1 or more, or empty")
                }
                maxViews = value
            }
            guard !fields.recipients.isEmpty else {
                throw RetractError(.noRecipients, "\(visit.viewer.text("app_to")): ?")
            }
            var draft = Draft(
                from: senderMailbox(visit.session.account), to: DraftFields.addresses(fields.to),
                cc: DraftFields.addresses(fields.cc), bcc: DraftFields.addresses(fields.bcc),
                subject: fields.subject,
                body: fields.body, attachments: kept.map(\.url), expiresIn: expires, maxViews: maxViews,
                delay: delay,
                locale: fields.locale == "zh-Hans" ? "zh-Hans" : "en", verify: fields.verify)
            draft.stagedUploads = service.uploadStaging
            return .success(draft)
        } catch {
            return .failure(error)
        }
    }

    /// `Name <address>` when the account's name needs no quoting, the bare address otherwise.
    private func senderMailbox(_ account: SenderAccount) -> String {
        guard let name = account.name?.trimmingCharacters(in: .whitespaces), !name.isEmpty,
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == " " || $0 == "." || $0 == "-" || $0 == "'" })
        else { return account.address }
        return "\(name) <\(account.address)>"
    }

    /// The compose form again, with the reason the draft could not be reviewed or sent (422).
    private func composeFailed(_ visit: Visit, fields: DraftFields, kept: [WebForm.File], reason: String) -> Response {
        composeForm(
            visit, fields: fields, kept: kept, error: visit.viewer.text("app_compose_error", ["error": reason]),
            status: .unprocessableContent)
    }

    private func review(_ visit: Visit, draft: Draft, fields: DraftFields, kept: [WebForm.File]) -> Response {
        let viewer = visit.viewer
        let findings = PreSendCheck.findings(
            sender: visit.address, subject: draft.subject, body: draft.body, attachmentCount: kept.count,
            recipients: draft.to + draft.cc + draft.bcc, visibleRecipients: draft.to + draft.cc)
        var values = fields.values
        values["findings"] = findings.map {
            [
                "code": $0.code, "message": $0.message, "warning": $0.severity == .warning,
                "label": viewer.text($0.severity == .warning ? "app_warning" : "app_note"),
                "title": viewer.strings["app_finding_\($0.code)"] ?? $0.code,
            ]
        }
        values["hasFindings"] = !findings.isEmpty
        values["kept"] = kept.map { ["name": $0.name, "size": WebPages.sizeText($0.size)] }
        values["hasKept"] = !kept.isEmpty
        values["toList"] = draft.to.joined(separator: ", ")
        if !draft.cc.isEmpty { values["ccList"] = draft.cc.joined(separator: ", ") }
        if !draft.bcc.isEmpty { values["bccList"] = draft.bcc.joined(separator: ", ") }
        values["expiresShown"] =
            fields.expires.nonEmpty
            ?? "\(viewer.text("app_default")) (\(WebPages.durationText(service.configuration.defaultExpiry)))"
        values["delayShown"] =
            fields.delay.nonEmpty
            ?? "\(viewer.text("app_default")) (\(WebPages.durationText(service.configuration.defaultSendDelay)))"
        values["maxViewsShown"] = fields.maxViews.nonEmpty ?? "—"
        values["localeShown"] = viewer.text(draft.locale == "zh-Hans" ? "app_locale_zh" : "app_locale_en")
        return pages.page("app-review", viewer: viewer, title: viewer.text("app_review_title"), values: values)
    }

    private func send(_ visit: Visit, draft: Draft, fields: DraftFields, kept: [WebForm.File]) async -> Response {
        do {
            let receipt = try await service.send(draft)
            if !fields.upload.isEmpty { await uploads.remove(fields.upload, sender: visit.address) }
            return .redirect(to: "/app/messages/\(receipt.messageID)?notice=sent", type: .normal)
        } catch {
            let reason = (error as? RetractError)?.description ?? "the message could not be stored; try again"
            return composeFailed(visit, fields: fields, kept: kept, reason: reason)
        }
    }

    // MARK: - Messages

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let visit: Visit
        switch await self.visit(request) {
        case .success(let found): visit = found
        case .failure(let redirect): return redirect.response
        }
        let rows: [[String: Any]] = try service.list(sender: visit.address).map {
            [
                "id": $0.id, "subject": $0.subject, "sent": PageRenderer.displayDate($0.createdAt),
                "sentISO": WebPages.iso($0.createdAt), "recipients": $0.recipients, "opened": $0.opened,
                "revoked": $0.revoked, "viaGateway": $0.origin == RetractService.gatewayOrigin,
            ]
        }
        return pages.page(
            "app-list", viewer: visit.viewer, title: visit.viewer.text("app_list_title"),
            notice: flash(request, visit.viewer), values: ["messages": rows, "empty": rows.isEmpty])
    }

    private func flash(_ request: Request, _ viewer: WebPages.Viewer) -> String? {
        request.uri.queryParameters.get("notice").flatMap { code -> String? in
            ["sent": "app_notice_sent", "cancelled": "app_notice_cancelled"][code].map { viewer.text($0) }
        }
    }

    private func status(_ context: Context, visit: Visit) -> MessageStatus? {
        guard let id = context.parameters.get("id"), id.count <= 64 else { return nil }
        return try? service.status(messageID: id, sender: visit.address)
    }

    @Sendable func message(_ request: Request, context: Context) async throws -> Response {
        let visit: Visit
        switch await self.visit(request, message: context.parameters.get("id")) {
        case .success(let found): visit = found
        case .failure(let redirect): return redirect.response
        }
        guard let status = status(context, visit: visit) else { return notFound(visit.viewer) }
        return messagePage(
            status, visit: visit, notice: flash(request, visit.viewer), error: nil,
            draftSent: request.uri.queryParameters.get("notice") == "sent")
    }

    private func messagePage(
        _ status: MessageStatus, visit: Visit, notice: String?, error: String?, code: HTTPResponse.Status = .ok,
        draftSent: Bool = false, revokeDraft: WebForm? = nil
    ) -> Response {
        let viewer = visit.viewer
        let now = service.now()
        let held =
            status.deliverAfter > now
            && status.recipients.allSatisfy {
                $0.delivery == "queued" && $0.state == "live" && $0.deliveryAttempts == 0
            }
        let recipients: [[String: Any]] = status.recipients.enumerated().map { index, r in
            var row: [String: Any] = [
                "index": index, "address": r.address, "kind": r.kind,
                "delivery": viewer.text("app_delivery_\(r.delivery)"), "deliveryCode": r.delivery,
                "firstOpen": r.firstOpenedAt.map(PageRenderer.displayDate) ?? viewer.text("app_not_opened"),
                "opened": r.firstOpenedAt != nil, "state": viewer.text("app_state_\(r.state)"), "stateCode": r.state,
                "live": r.state == "live",
            ]
            if let at = r.revokedAt {
                row["revokedOn"] = viewer.text("app_revoked_on", ["date": PageRenderer.displayDate(at)])
            }
            if let reason = r.revokeReason, !reason.isEmpty { row["reason"] = reason }
            if let replacement = r.replacementId { row["replacement"] = replacement }
            if revokeDraft?.all("recipient").contains(r.address) == true { row["checked"] = true }
            return row
        }
        var values: [String: Any] = [
            "id": status.id, "subject": status.subject, "created": PageRenderer.displayDate(status.createdAt),
            "createdISO": WebPages.iso(status.createdAt), "attachments": status.attachments,
            "recipients": recipients, "contentGone": !status.contentAvailable,
            "canRevoke": status.recipients.contains { $0.state != "revoked" },
        ]
        if let expires = status.expiresAt { values["expires"] = PageRenderer.displayDate(expires) }
        if let maxViews = status.maxViews { values["maxViews"] = maxViews }
        if let supersedes = status.supersedes { values["supersedes"] = supersedes }
        if held {
            let seconds = Int(status.deliverAfter.timeIntervalSince(now).rounded(.up))
            values["held"] = [
                "deadlineISO": WebPages.iso(status.deliverAfter),
                "text": viewer.text("app_held_text", ["time": WebPages.displayTime(status.deliverAfter)]),
                "countdown": viewer.text("app_countdown", ["seconds": String(seconds)]),
                "countdownTemplate": viewer.strings["app_countdown"] ?? "",
            ]
        }
        if let error { values["error"] = error }
        if draftSent { values["draftSent"] = true }
        let notify = revokeDraft?["notify"] ?? "all"
        values["revokeDraft"] = [
            "chosen": revokeDraft?["scope"] == "chosen", "reason": revokeDraft?["reason"] ?? "",
            "notifyAll": notify != "opened" && notify != "none", "notifyOpened": notify == "opened",
            "notifyNone": notify == "none", "correctionSubject": revokeDraft?["correction_subject"] ?? "",
            "correctionBody": revokeDraft?["correction_body"] ?? "",
        ]
        return pages.page(
            "app-message-status", status: code, viewer: viewer, title: status.subject, notice: notice, values: values)
    }

    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let visit: Visit
        switch await self.visit(request, message: context.parameters.get("id")) {
        case .success(let found): visit = found
        case .failure(let redirect): return redirect.response
        }
        guard await checkedForm(request, visit: visit) != nil else { return forbidden(visit.viewer) }
        guard let status = status(context, visit: visit) else { return notFound(visit.viewer) }
        do {
            _ = try await service.cancel(messageID: status.id, sender: visit.address)
            return .redirect(to: "/app/messages/\(status.id)?notice=cancelled", type: .normal)
        } catch let error as RetractError where error.code == .tooLateToCancel {
            return pages.message(
                status: .conflict, viewer: visit.viewer, title: visit.viewer.text("app_too_late_title"),
                text: visit.viewer.text("app_too_late_text"),
                back: ("/app/messages/\(status.id)#revoke", visit.viewer.text("app_revoke_title")))
        } catch let error as RetractError where error.code == .messageNotFound {
            return notFound(visit.viewer)
        }
    }

    @Sendable func revoke(_ request: Request, context: Context) async throws -> Response {
        let visit: Visit
        switch await self.visit(request, message: context.parameters.get("id")) {
        case .success(let found): visit = found
        case .failure(let redirect): return redirect.response
        }
        guard let form = await checkedForm(request, visit: visit) else { return forbidden(visit.viewer) }
        guard let status = status(context, visit: visit) else { return notFound(visit.viewer) }
        let viewer = visit.viewer
        let chosen = form["scope"] == "chosen"
        let recipients = chosen ? form.all("recipient").filter { !$0.isEmpty } : []
        if form["action"] == "edit" {
            return messagePage(status, visit: visit, notice: nil, error: nil, revokeDraft: form)
        }
        if chosen, recipients.isEmpty {
            return messagePage(
                status, visit: visit, notice: nil, error: viewer.text("app_choose_recipient"),
                code: .unprocessableContent,
                revokeDraft: form)
        }
        let correctionBody = form["correction_body"]
        let replacement =
            correctionBody.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            ? nil
            : RevokeRequest.Replacement(subject: form.trimmed("correction_subject"), body: correctionBody)
        let revokeRequest = RevokeRequest(
            messageID: status.id, recipients: recipients, reason: form.trimmed("reason"),
            notify: RevokeRequest.NoticePolicy(rawValue: form["notify"]) ?? .all, replacement: replacement)
        do {
            if form["action"] == "confirm" {
                let report = try await service.revoke(revokeRequest, sender: visit.address)
                return reportPage(report, subject: status.subject, visit: visit)
            }
            let previews = try service.noticePreview(revokeRequest, sender: visit.address)
            return previewPage(previews, request: revokeRequest, form: form, status: status, visit: visit)
        } catch let error as RetractError where error.code == .messageNotFound {
            return notFound(viewer)
        } catch let error as RetractError {
            return messagePage(
                status, visit: visit, notice: nil, error: error.description, code: .unprocessableContent,
                revokeDraft: form)
        }
    }

    private func previewPage(
        _ previews: [RetractService.NoticePreview], request: RevokeRequest, form: WebForm, status: MessageStatus,
        visit: Visit
    ) -> Response {
        let viewer = visit.viewer
        let rows: [[String: Any]] = previews.enumerated().map { index, p in
            var row: [String: Any] = [
                "index": index, "address": p.recipient, "notice": viewer.text("app_notice_\(p.notice)"),
                "noticeCode": p.notice, "outcome": viewer.text("app_outcome_\(p.outcome)"),
                "hasMail": !p.subject.isEmpty || !p.text.isEmpty,
            ]
            if !p.subject.isEmpty || !p.text.isEmpty {
                row["mailSubject"] = p.subject
                row["mailText"] = p.text
            }
            return row
        }
        let hidden: [[String: String]] =
            [
                ["name": "scope", "value": form["scope"] == "chosen" ? "chosen" : "all"],
                ["name": "reason", "value": form["reason"]],
                ["name": "notify", "value": request.notify.rawValue],
                ["name": "correction_subject", "value": form["correction_subject"]],
                ["name": "correction_body", "value": form["correction_body"]],
            ] + request.recipients.map { ["name": "recipient", "value": $0] }
        return pages.page(
            "app-revoke-preview", viewer: viewer, title: viewer.text("app_preview_title"),
            values: [
                "id": status.id, "subject": status.subject, "previews": rows, "hidden": hidden,
                "mailLang": status.locale,
            ])
    }

    private func reportPage(_ report: RecallReport, subject: String, visit: Visit) -> Response {
        let viewer = visit.viewer
        let rows: [[String: Any]] = report.recipients.map { r in
            [
                "address": r.address,
                "outcome": viewer.text("app_outcome_\(r.alreadyRevoked ? "already_revoked" : r.outcome)"),
                "outcomeCode": r.outcome, "notice": viewer.text("app_notice_\(r.notice)"),
                "firstOpen": r.openedAt.map(PageRenderer.displayDate) ?? viewer.text("app_not_opened"),
            ]
        }
        var values: [String: Any] = [
            "id": report.id, "subject": subject, "rows": rows, "destroyed": report.contentDestroyed,
            "intro": viewer.text("app_report_intro", ["date": PageRenderer.displayDate(report.revokedAt)]),
        ]
        if let reason = report.reason { values["reason"] = reason }
        if let replacement = report.replacementId { values["replacement"] = replacement }
        return pages.page("app-report", viewer: viewer, title: viewer.text("app_report_title"), values: values)
    }
}

extension String {
    /// Nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }

    fileprivate var withLeadingSlash: String { hasPrefix("/") ? self : "/" + self }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async -> T) async -> T? {
        guard let value = self else { return nil }
        return await transform(value)
    }
}
