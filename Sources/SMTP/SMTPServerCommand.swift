/// A command line from an SMTP client, parsed (RFC 5321 §4.1 with the ESMTP parameters of
/// SIZE, 8BITMIME, SMTPUTF8 and DSN). Parsing is separate from the conversation so that
/// each syntax rule is tested by itself.
enum SMTPServerCommand: Hashable, Sendable {
    case ehlo(String)
    case helo(String)
    /// `MAIL FROM:<path>`; the path is empty for the null sender.
    case mail(from: String, parameters: MailParameters)
    /// `RCPT TO:<path>`.
    case recipient(String)
    case data
    case reset
    case noop
    case quit
    case verify
    case expand
    case help
    case startTLS
    /// `AUTH mechanism [initial-response]`.
    case auth(mechanism: String, initialResponse: String?)
    /// `XFORWARD NAME=value …`, values decoded from xtext.
    case xforward([XForwardAttribute])
    /// BDAT, TURN, ETRN and the like: known, not offered.
    case notImplemented(String)

    /// One `NAME=value` of XFORWARD.
    struct XForwardAttribute: Hashable, Sendable {
        var name: String
        var value: String
    }

    /// The MAIL parameters that matter to the server; RET= and ENVID= are accepted and ignored.
    struct MailParameters: Hashable, Sendable {
        /// `SIZE=` as declared by the client.
        var declaredSize: Int64?
        /// `BODY=8BITMIME` (or `7BIT`).
        var eightBit = false
        /// `SMTPUTF8` was given.
        var smtpUTF8 = false
    }

    /// Why a line is not a command the server takes.
    enum ParseError: Error, Hashable {
        /// No such verb (500 5.5.1).
        case unknownCommand(String)
        /// The verb is known, its arguments are not (501 5.5.4).
        case syntax(String)
        /// A MAIL or RCPT parameter the server does not offer (555 5.5.4).
        case unsupportedParameter(String)
        /// An address with bytes other than ASCII, or none at all.
        case badAddress(String)
    }

    /// Parses one line (without its line ending).
    static func parse(_ line: [UInt8]) throws(ParseError) -> SMTPServerCommand {
        guard let text = String(validating: line, as: UTF8.self),
            !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" })
        else { throw .syntax("the command line is not text") }
        let trimmed = text.trimmingSpaces()
        let verbEnd = trimmed.firstIndex(of: " ") ?? trimmed.endIndex
        let verb = trimmed[..<verbEnd].uppercased()
        let argument = String(trimmed[verbEnd...]).trimmingSpaces()
        switch verb {
        case "EHLO", "HELO":
            guard !argument.isEmpty, !argument.contains(" ") || argument.hasPrefix("[") else {
                throw .syntax("\(verb) needs one domain or address literal")
            }
            return verb == "EHLO" ? .ehlo(argument) : .helo(argument)
        case "MAIL":
            let (path, parameters) = try Self.pathAndParameters(argument, prefix: "FROM:")
            var mail = MailParameters()
            for (key, value) in parameters {
                switch key {
                case "SIZE":
                    guard let value, !value.isEmpty, value.count <= 18, value.allSatisfy(\.isASCIIDigit),
                        let size = Int64(value)
                    else { throw .syntax("SIZE= needs a number") }
                    mail.declaredSize = size
                case "BODY":
                    switch value?.uppercased() {
                    case "7BIT": mail.eightBit = false
                    case "8BITMIME": mail.eightBit = true
                    default: throw .syntax("BODY= is 7BIT or 8BITMIME")
                    }
                case "SMTPUTF8":
                    guard value == nil else { throw .syntax("SMTPUTF8 takes no value") }
                    mail.smtpUTF8 = true
                case "RET", "ENVID":
                    guard value != nil else { throw .syntax("\(key)= needs a value") }
                default: throw .unsupportedParameter(key)
                }
            }
            try Self.checkAddress(path, allowEmpty: true, utf8: mail.smtpUTF8)
            return .mail(from: path, parameters: mail)
        case "RCPT":
            let (path, parameters) = try Self.pathAndParameters(argument, prefix: "TO:")
            for (key, value) in parameters {
                switch key {
                case "NOTIFY", "ORCPT":
                    guard value != nil else { throw .syntax("\(key)= needs a value") }
                default: throw .unsupportedParameter(key)
                }
            }
            try Self.checkAddress(path, allowEmpty: false, utf8: true)
            return .recipient(path)
        case "DATA", "RSET", "QUIT", "STARTTLS":
            guard argument.isEmpty else { throw .syntax("\(verb) takes no argument") }
            switch verb {
            case "DATA": return .data
            case "RSET": return .reset
            case "QUIT": return .quit
            default: return .startTLS
            }
        case "NOOP": return .noop
        case "VRFY": return .verify
        case "EXPN": return .expand
        case "HELP": return .help
        case "AUTH":
            let words = argument.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...2).contains(words.count) else { throw .syntax("AUTH needs a mechanism") }
            return .auth(mechanism: words[0].uppercased(), initialResponse: words.count == 2 ? String(words[1]) : nil)
        case "XFORWARD":
            var attributes: [XForwardAttribute] = []
            for word in argument.split(separator: " ", omittingEmptySubsequences: true) {
                guard let equals = word.firstIndex(of: "=") else { throw .syntax("XFORWARD takes NAME=value") }
                let name = word[..<equals].uppercased()
                guard ["ADDR", "NAME", "HELO", "PROTO", "SOURCE", "IDENT", "PORT"].contains(name) else {
                    throw .syntax("XFORWARD has no attribute \(name.prefix(20))")
                }
                guard let value = Self.decodeXtext(word[word.index(after: equals)...]) else {
                    throw .syntax("XFORWARD \(name) is not valid xtext")
                }
                attributes.append(XForwardAttribute(name: name, value: value))
            }
            guard !attributes.isEmpty else { throw .syntax("XFORWARD needs an attribute") }
            return .xforward(attributes)
        case "BDAT", "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML":
            return .notImplemented(verb)
        default:
            throw .unknownCommand(String(verb.prefix(20)))
        }
    }

    /// Splits `FROM:<path> KEY=VALUE …` into the path (angle brackets and any source route
    /// removed) and the parameters (keys upper-cased).
    private static func pathAndParameters(_ argument: String, prefix: String) throws(ParseError) -> (
        String, [(String, String?)]
    ) {
        guard argument.uppercased().hasPrefix(prefix) else { throw .syntax("expected \(prefix)<address>") }
        let rest = argument.dropFirst(prefix.count).drop { $0 == " " }
        guard rest.first == "<", let close = rest.firstIndex(of: ">") else {
            throw .syntax("the address must be in angle brackets")
        }
        var path = String(rest[rest.index(after: rest.startIndex)..<close])
        if path.hasPrefix("@"), let colon = path.firstIndex(of: ":") {
            path = String(path[path.index(after: colon)...])
        }
        let tail = rest[rest.index(after: close)...]
        guard tail.isEmpty || tail.first == " " else { throw .syntax("a space must follow the address") }
        var parameters: [(String, String?)] = []
        for word in tail.split(separator: " ", omittingEmptySubsequences: true) {
            if let equals = word.firstIndex(of: "=") {
                parameters.append((word[..<equals].uppercased(), String(word[word.index(after: equals)...])))
            } else {
                parameters.append((word.uppercased(), nil))
            }
        }
        return (path, parameters)
    }

    private static func checkAddress(_ path: String, allowEmpty: Bool, utf8: Bool) throws(ParseError) {
        if path.isEmpty {
            guard allowEmpty else { throw .badAddress("an empty recipient") }
            return
        }
        guard path.utf8.count <= 256, !path.contains(" "), !path.contains("<"), !path.contains(">") else {
            throw .badAddress("the address is malformed")
        }
        guard utf8 || path.allSatisfy(\.isASCII) else {
            throw .badAddress("an address with non-ASCII characters needs SMTPUTF8")
        }
        guard path.contains("@") || path.lowercased() == "postmaster" else {
            throw .badAddress("the address needs a domain")
        }
    }

    /// RFC 3461 xtext: `+XX` is the byte with hexadecimal value XX.
    private static func decodeXtext(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.first {
            utf8 = utf8.dropFirst()
            guard byte == UInt8(ascii: "+") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension String {
    func trimmingSpaces() -> String {
        let scalars = self.unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? start
        return String(scalars[start...end])
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}
