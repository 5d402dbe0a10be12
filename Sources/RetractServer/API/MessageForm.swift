import Foundation
import Mail
import RetractCore

/// What `POST /api/v1/messages` asks for, read from a JSON body or from multipart fields and
/// checked field by field, so a mistake is a 400 that names its field before the core runs.
///
/// The sender is never a field: `from` is refused, and the draft's From is the authenticated
/// account's address and name.
struct MessageForm {
    var to: [String] = []
    var cc: [String] = []
    var bcc: [String] = []
    var subject: String?
    var body: String?
    var expires: TimeInterval?
    var maxViews: Int?
    var delay: TimeInterval?
    var locale: String?
    var verify = false
    var strict = false
    /// Uploaded files (multipart only), each already streamed to a temporary file.
    var attachments: [URL] = []

    /// The largest `max_views` the API takes (docs/openapi.yaml); beyond it, leave it out.
    static let maximumViews = 1_000_000

    /// The fields a request may carry (besides multipart `attachment` parts).
    static let fieldNames: Set<String> = [
        "to", "cc", "bcc", "subject", "body", "expires", "max_views", "delay", "locale", "verify", "strict",
    ]

    /// Why some tempting fields are refused.
    static let refusals = [
        "from": "from is always the authenticated sender's address and name; leave it out",
        "attachment": "attachments need multipart/form-data: send each file as a part named attachment",
    ]

    init() {}

    /// Reads a JSON object body.
    init(json: JSONFields) throws(APIProblem) {
        try json.rejectUnknown(allowed: Self.fieldNames, explain: Self.refusals)
        to = try json.strings("to")
        cc = try json.strings("cc")
        bcc = try json.strings("bcc")
        subject = try json.string("subject")
        body = try json.string("body")
        expires = try json.duration("expires", bounds: .expiry)
        maxViews = try json.integer("max_views")
        delay = try json.duration("delay", bounds: .delay)
        locale = try json.string("locale")
        verify = try json.bool("verify") ?? false
        strict = try json.bool("strict") ?? false
    }

    /// Reads the fields and files `MultipartFormReader` took from a multipart body: files only
    /// in parts named `attachment`, every other part a known text field.
    init(multipart form: WebForm) throws(APIProblem) {
        for file in form.files where file.field != "attachment" {
            throw .invalidField(
                file.field, "only parts named attachment may carry files; \(file.field) is a text field")
        }
        for name in form.fields.keys.sorted() {
            guard name != "attachment" else {
                throw .invalidField("attachment", "attachment parts must be files (with a filename)")
            }
            for value in form.all(name) { try set(field: name, value: value) }
        }
        attachments = form.files.map(\.url)
    }

    /// Takes one text field of a multipart body; `to`, `cc` and `bcc` repeat, the others not.
    mutating func set(field: String, value: String) throws(APIProblem) {
        func once<T>(_ current: T?, _ new: T) throws(APIProblem) -> T {
            guard current == nil else {
                throw .invalidField(field, "\(field) is given more than once; give it once")
            }
            return new
        }
        switch field {
        case "to": to.append(value)
        case "cc": cc.append(value)
        case "bcc": bcc.append(value)
        case "subject": subject = try once(subject, value)
        case "body": body = try once(body, value)
        // An empty form field is an absent one (a browser sends every input).
        case "expires" where value.isEmpty: break
        case "delay" where value.isEmpty: break
        case "expires": expires = try once(expires, try Self.duration(value, field: field, bounds: .expiry))
        case "delay": delay = try once(delay, try Self.duration(value, field: field, bounds: .delay))
        case "locale": locale = try once(locale, value)
        case "max_views":
            guard value.wholeMatch(of: /-?[0-9]{1,18}/) != nil, let number = Int(value) else {
                throw .invalidField(field, "max_views must be a whole number, not \(value.prefix(40).debugDescription)")
            }
            maxViews = try once(maxViews, number)
        case "verify": verify = try Self.flag(value, field: field)
        case "strict": strict = try Self.flag(value, field: field)
        default:
            let reason =
                Self.refusals[field]
                ?? "unknown field \(field); allowed: \(Self.fieldNames.sorted().joined(separator: ", ")), attachment (files)"
            throw .invalidField(field, reason)
        }
    }

    /// The draft the core sends, from the authenticated sender.
    func draft(for account: SenderAccount) throws(APIProblem) -> Draft {
        guard let subject else { throw .invalidField("subject", "subject is missing; give the message a subject") }
        guard let body else { throw .invalidField("body", "body is missing; give the message a body text") }
        guard !(to.isEmpty && cc.isEmpty && bcc.isEmpty) else {
            throw .invalidField("to", "no recipients; name at least one in to, cc or bcc")
        }
        for (field, list) in [("to", to), ("cc", cc), ("bcc", bcc)] {
            for (index, text) in list.enumerated() {
                do {
                    _ = try MailAddress(parsing: text)
                } catch {
                    throw .invalidField(
                        field,
                        "\(field)[\(index)] \(text.prefix(200).debugDescription) is not a valid address: \(error)")
                }
            }
        }
        if let maxViews, maxViews < 1 {
            throw .invalidField("max_views", "max_views must be 1 or more (leave it out for no limit)")
        }
        if let maxViews, maxViews > Self.maximumViews {
            throw .invalidField("max_views", "max_views must be at most \(Self.maximumViews) (leave it out for no limit)")
        }
        let from: String
        do {
            from = try MailAddress(address: account.address, displayName: account.name).description
        } catch {
            from = account.address
        }
        return Draft(
            from: from, to: to, cc: cc, bcc: bcc, subject: subject, body: body, attachments: attachments,
            expiresIn: expires, maxViews: maxViews, delay: delay, locale: locale ?? "en", strict: strict,
            verify: verify)
    }

    /// The findings the core's pre-send checks give this draft (for the 422 of `strict`).
    func findings(for draft: Draft) -> [Finding] {
        let named = (draft.to + draft.cc + draft.bcc).map { (try? MailAddress(parsing: $0))?.address ?? $0 }
        let sender = (try? MailAddress(parsing: draft.from))?.address ?? draft.from
        let visible = (draft.to + draft.cc).map { (try? MailAddress(parsing: $0))?.address ?? $0 }
        return PreSendCheck.findings(
            sender: sender, subject: draft.subject, body: draft.body, attachmentCount: draft.attachments.count,
            recipients: named, visibleRecipients: visible)
    }

    /// A duration as the contract writes it (`30s`, `15m`, `12h`, `7d`, `2w`, `0`, or plain
    /// seconds), within `bounds`.
    ///
    /// Stricter than the CLI (no spaces, capitals, `+` or leading zeros), so that
    /// docs/openapi.yaml's patterns (`scripts/duration_pattern.py`) say exactly what is taken.
    static func duration(_ text: String, field: String, bounds: DurationText.Bounds) throws(APIProblem) -> TimeInterval {
        guard text.wholeMatch(of: /0[smhdw]?|[1-9][0-9]{0,11}[smhdw]?/) != nil else {
            throw .invalidField(
                field, "\(field) must be a duration like 30s, 15m, 12h, 7d or 2w, or a number of seconds")
        }
        do {
            return try DurationText.seconds(text, option: field, bounds: bounds, bareSeconds: true)
        } catch {
            throw .invalidField(field, APIProblem.apiWording(error.description).1)
        }
    }

    /// A multipart boolean: `true` or `false`.
    static func flag(_ text: String, field: String) throws(APIProblem) -> Bool {
        // Exactly the contract's words (docs/openapi.yaml): a boolean part is `true` or
        // `false`; "0", "on" or an empty part is refused rather than guessed at.
        switch text {
        case "true": return true
        case "false": return false
        default: throw .invalidField(field, "\(field) must be true or false, not \(text.prefix(40).debugDescription)")
        }
    }
}
