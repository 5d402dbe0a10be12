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
        try self.validate()
        var head: [String] = ["Date: " + MailDateFormat.rfc5322(self.date)]
        head.append(Self.addressField("From", [self.from]))
        if let replyTo { head.append(Self.addressField("Reply-To", [replyTo])) }
        head.append(Self.addressField("To", self.to))
        if !self.cc.isEmpty { head.append(Self.addressField("Cc", self.cc)) }
        var subject = HeaderFolder(name: "Subject")
        subject.append(text: self.subject)
        head.append(subject.rendered)
        head.append(Self.tokenField("Message-ID", [self.messageID]))
        if let inReplyTo { head.append(Self.tokenField("In-Reply-To", [inReplyTo])) }
        if !self.references.isEmpty { head.append(Self.tokenField("References", self.references)) }
        head.append("MIME-Version: 1.0")
        for extra in self.extraHeaders {
            var field = HeaderFolder(name: extra.name)
            field.append(text: extra.value)
            head.append(field.rendered)
        }

        let text = QuotedPrintable.encode(self.textBody)
        let body: String
        if let htmlBody {
            let html = QuotedPrintable.encode(htmlBody)
            var boundary: String
            repeat {
                boundary = "=_retract_" + MessageIDFactory.randomHex(bytes: 12)
            } while [text, html, self.textBody, htmlBody].contains(where: { $0.contains(boundary) })
            head.append("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"")
            body =
                "This is a multi-part message in MIME format.\r\n"
                + "--\(boundary)\r\n\(Self.partHeaders("text/plain"))\r\n\r\n\(text)\r\n"
                + "--\(boundary)\r\n\(Self.partHeaders("text/html"))\r\n\r\n\(html)\r\n"
                + "--\(boundary)--\r\n"
        } else {
            head.append(Self.partHeaders("text/plain"))
            body = text.hasSuffix("\r\n") ? text : text + "\r\n"
        }
        return Array((head.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
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
