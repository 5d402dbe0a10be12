import Foundation

extension MailMessage {
    /// The mail as RFC 5322 bytes with CRLF line endings, ready for any transport.
    ///
    /// Headers: Date, From, Reply-To, To, Cc, Subject, Message-ID, In-Reply-To, References,
    /// MIME-Version, the extra headers, then the content headers; non-ASCII text goes out as
    /// RFC 2047 encoded-words and every line is folded to at most 78 characters. The body is
    /// text/plain, or multipart/alternative (text then HTML) when there is an HTML body, UTF-8,
    /// quoted-printable (see `QuotedPrintable` for why). Throws before writing anything when
    /// `validate()` fails.
    public func rendered() throws(MailError) -> [UInt8] {
        try self.rendered(reusing: nil)
    }

    /// What mails that differ only in `To`, `Message-ID`, `In-Reply-To` and `References`
    /// render alike: the other header lines and the encoded body. A caller rendering many
    /// such mails (a notice to each of ten thousand recipients) renders these once.
    public struct SharedRendering: Sendable {
        /// The mail it was made from; a mail reuses the parts only if these fields match.
        let prototype: MailMessage
        /// `Date`, `From` and `Reply-To`: the lines before `To`.
        let leadingLines: [String]
        /// The folded `Subject` line.
        let subjectLine: String
        /// `MIME-Version`, the extra headers and the content headers: the lines after `References`.
        let trailingLines: [String]
        /// Everything after the blank line that ends the header.
        let body: [UInt8]
    }

    /// The parts of this mail that `rendered(reusing:)` of a like mail can reuse.
    public func sharedRendering() -> SharedRendering {
        let (contentHeaders, body) = self.encodedBody()
        return SharedRendering(
            prototype: self, leadingLines: self.leadingLines(), subjectLine: self.subjectLine(),
            trailingLines: self.trailingLines(contentHeaders: contentHeaders), body: body)
    }

    /// `rendered()`, taking every part but `To`, `Cc`, `Message-ID`, `In-Reply-To` and
    /// `References` from `shared` when this mail matches its prototype in all other fields
    /// (checked); rendered in full otherwise. Validation always runs in full.
    public func rendered(reusing shared: SharedRendering?) throws(MailError) -> [UInt8] {
        try self.validate()
        let reuse = shared.flatMap { self.sharesRendering(with: $0.prototype) ? $0 : nil }
        var head: [String] = reuse?.leadingLines ?? self.leadingLines()
        head.append(Self.addressField("To", self.to))
        if !self.cc.isEmpty { head.append(Self.addressField("Cc", self.cc)) }
        head.append(reuse?.subjectLine ?? self.subjectLine())
        head.append(Self.tokenField("Message-ID", [self.messageID]))
        if let inReplyTo { head.append(Self.tokenField("In-Reply-To", [inReplyTo])) }
        if !self.references.isEmpty { head.append(Self.tokenField("References", self.references)) }
        let body: [UInt8]
        if let reuse {
            head += reuse.trailingLines
            body = reuse.body
        } else {
            let encoded = self.encodedBody()
            head += self.trailingLines(contentHeaders: encoded.contentHeaders)
            body = encoded.body
        }
        var output = Array((head.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        output.append(contentsOf: body)
        return output
    }

    /// Whether this mail renders like `other` in every part `SharedRendering` holds.
    private func sharesRendering(with other: MailMessage) -> Bool {
        self.date == other.date && self.from == other.from && self.replyTo == other.replyTo
            && self.subject == other.subject && self.textBody == other.textBody && self.htmlBody == other.htmlBody
            && self.extraHeaders.count == other.extraHeaders.count
            && zip(self.extraHeaders, other.extraHeaders).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    private func leadingLines() -> [String] {
        var lines = ["Date: " + MailDateFormat.rfc5322(self.date), Self.addressField("From", [self.from])]
        if let replyTo { lines.append(Self.addressField("Reply-To", [replyTo])) }
        return lines
    }

    private func subjectLine() -> String {
        var subject = HeaderFolder(name: "Subject")
        subject.append(text: self.subject)
        return subject.rendered
    }

    private func trailingLines(contentHeaders: String) -> [String] {
        var lines = ["MIME-Version: 1.0"]
        for extra in self.extraHeaders {
            var field = HeaderFolder(name: extra.name)
            field.append(text: extra.value)
            lines.append(field.rendered)
        }
        lines.append(contentHeaders)
        return lines
    }

    /// The content headers and the encoded body: text/plain, or multipart/alternative with
    /// a fresh boundary when there is an HTML body.
    private func encodedBody() -> (contentHeaders: String, body: [UInt8]) {
        let text = Self.quotedPrintable(self.textBody)
        guard let htmlBody else {
            var body = text
            if !body.ends(with: [13, 10]) { body.append(contentsOf: [13, 10]) }
            return (Self.partHeaders("text/plain"), body)
        }
        let html = Self.quotedPrintable(htmlBody)
        // Only the encoded parts go on the wire, and quoted-printable writes every `=` as
        // `=3D`, so a boundary starting with `=_` cannot occur in them; the byte search is a
        // cheap guard that keeps it so.
        var boundary: String
        repeat {
            boundary = "=_retract_" + MessageIDFactory.randomHex(bytes: 12)
        } while Self.contains(text, Array(boundary.utf8)) || Self.contains(html, Array(boundary.utf8))
        var body: [UInt8] = []
        body.reserveCapacity(text.count + html.count + 400)
        body.append(contentsOf: "This is a multi-part message in MIME format.\r\n".utf8)
        body.append(contentsOf: "--\(boundary)\r\n\(Self.partHeaders("text/plain"))\r\n\r\n".utf8)
        body.append(contentsOf: text)
        body.append(contentsOf: "\r\n--\(boundary)\r\n\(Self.partHeaders("text/html"))\r\n\r\n".utf8)
        body.append(contentsOf: html)
        body.append(contentsOf: "\r\n--\(boundary)--\r\n".utf8)
        return ("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"", body)
    }

    /// A body as quoted-printable bytes.
    private static func quotedPrintable(_ body: String) -> [UInt8] {
        var body = body
        return body.withUTF8 { QuotedPrintable.encode(bytes: $0) }
    }

    /// Whether `needle` occurs in `haystack`, byte for byte.
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    private static func partHeaders(_ type: String) -> String {
        "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
    }

    private static func addressField(_ name: String, _ addresses: [MailAddress]) -> String {
        var field = HeaderFolder(name: name)
        for (index, mailbox) in addresses.enumerated() {
            let separator = index == addresses.count - 1 ? "" : ","
            if let displayName = mailbox.displayName {
                field.append(phrase: displayName)
                field.append(token: "<\(mailbox.address)>" + separator)
            } else {
                field.append(token: mailbox.address + separator)
            }
        }
        return field.rendered
    }

    private static func tokenField(_ name: String, _ tokens: [String]) -> String {
        var field = HeaderFolder(name: name)
        for token in tokens { field.append(token: token) }
        return field.rendered
    }
}

extension [UInt8] {
    /// Whether the bytes end with `suffix`.
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
