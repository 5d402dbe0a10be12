/// What an SMTP server offers, read from its EHLO reply (RFC 5321 §4.1.1.1): each line after
/// the first is a keyword and its parameters.
///
/// Only the extensions the client uses are kept. A server that answered HELO instead offers
/// nothing (`SMTPCapabilities()`).
struct SMTPCapabilities: Sendable, Hashable {
    /// `SIZE` was offered (RFC 1870): MAIL FROM may carry `SIZE=`.
    var offersSize = false
    /// The largest message the server accepts, when `SIZE` names a positive limit.
    var maximumSize: Int?
    /// `PIPELINING` (RFC 2920): MAIL, RCPT and DATA may go out in one write.
    var pipelining = false
    /// `8BITMIME` (RFC 6152): MAIL FROM may say `BODY=8BITMIME`.
    var eightBitMIME = false
    /// `SMTPUTF8` (RFC 6531): non-ASCII addresses are allowed.
    var smtpUTF8 = false
    /// `STARTTLS` (RFC 3207).
    var startTLS = false
    /// The SASL mechanisms of `AUTH` (RFC 4954), upper-cased.
    var authMechanisms: Set<String> = []

    /// No extension at all.
    init() {}

    /// Reads the keywords from an EHLO reply; unknown keywords and malformed parameters are ignored.
    init(ehloReply reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.uppercased() }
            guard var keyword = words.first else { continue }
            var parameters = Array(words.dropFirst())
            // Old servers write `AUTH=PLAIN LOGIN`.
            if keyword.hasPrefix("AUTH=") {
                parameters.insert(String(keyword.dropFirst(5)), at: 0)
                keyword = "AUTH"
            }
            switch keyword {
            case "SIZE":
                self.offersSize = true
                if let limit = parameters.first.flatMap({ Int($0) }), limit > 0 { self.maximumSize = limit }
            case "PIPELINING": self.pipelining = true
            case "8BITMIME": self.eightBitMIME = true
            case "SMTPUTF8": self.smtpUTF8 = true
            case "STARTTLS": self.startTLS = true
            case "AUTH": self.authMechanisms.formUnion(parameters.filter { !$0.isEmpty })
            default: continue
            }
        }
    }
}
