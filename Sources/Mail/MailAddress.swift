import Foundation

/// A mailbox: an addr-spec (`local@domain`) with an optional display name.
///
/// Every instance is validated, so code that renders headers can trust it: no CR, LF or NUL,
/// a dot-atom local part of at most 64 octets, a lowercased domain of LDH labels (with a dot,
/// unless it is `localhost`), at most 254 characters in all. Quoted local parts, domain
/// literals and non-ASCII addresses (RFC 6531) are refused; international domains must be
/// given in their `xn--` form.
public struct MailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The addr-spec: the local part as typed, `@`, the domain lowercased.
    public let address: String
    /// The human name shown before the address, if any; never empty.
    public let displayName: String?

    /// Parses `a@b.example`, `<a@b.example>`, `Name <a@b.example>` or `"Doe, J" <a@b.example>`.
    public init(parsing text: String) throws(MailError) {
        try Self.rejectControlCharacters(in: text)
        let trimmed = Self.trimmedOfWhitespace(text)
        guard trimmed.hasSuffix(">") else {
            try self.init(address: trimmed, displayName: nil)
            return
        }
        guard let open = trimmed.lastIndex(of: "<") else {
            throw MailError.invalidAddress.with(
                "\(MailError.quote(text)) has a '>' without a matching '<'; write it as Name <user@example.com>"
            )
        }
        let spec = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
        let phrase = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        let name = try Self.parseDisplayName(phrase, in: text)
        try self.init(address: String(spec), displayName: name)
    }

    /// Builds a mailbox from its parts, validating both; an empty or blank name counts as none.
    public init(address: String, displayName: String?) throws(MailError) {
        try Self.rejectControlCharacters(in: address)
        if let displayName { try Self.rejectControlCharacters(in: displayName) }
        self.address = try Self.validatedAddress(address)
        let name = displayName?.trimmingCharacters(in: .whitespaces)
        self.displayName = (name?.isEmpty ?? true) ? nil : name
    }

    /// The part after the `@`, lowercased.
    public var domain: String {
        guard let at = self.address.lastIndex(of: "@") else { return "" }
        return String(self.address[self.address.index(after: at)...])
    }

    /// The part before the `@`, as typed.
    public var localPart: String {
        guard let at = self.address.lastIndex(of: "@") else { return self.address }
        return String(self.address[..<at])
    }

    /// The RFC 5322 form for display, `Name <a@b.example>` (name quoted when it has specials),
    /// not RFC 2047 encoded; `rendered()` encodes non-ASCII names for the wire.
    public var description: String {
        guard let displayName else { return self.address }
        if displayName.unicodeScalars.contains(where: { Self.specials.contains($0) }) {
            return "\(Self.quoted(displayName)) <\(self.address)>"
        }
        return "\(displayName) <\(self.address)>"
    }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey {
        case address
        case displayName
    }

    /// Decodes `{"address": …, "displayName": …}` and validates it like `init(address:displayName:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let address = try container.decode(String.self, forKey: .address)
        let name = try container.decodeIfPresent(String.self, forKey: .displayName)
        do {
            try self.init(address: address, displayName: name)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: .address, in: container, debugDescription: error.description)
        }
    }

    /// Encodes `{"address": …, "displayName": …}`, leaving out a missing name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.address, forKey: .address)
        try container.encodeIfPresent(self.displayName, forKey: .displayName)
    }

    // MARK: Validation

    /// RFC 5322 `specials`, plus the characters that make a phrase need quoting.
    static let specials: Set<Unicode.Scalar> = Set("()<>[]:;@\\,.\"".unicodeScalars)

    /// RFC 5322 `atext` besides letters and digits.
    private static let atextSymbols: Set<Unicode.Scalar> = Set("!#$%&'*+-/=?^_`{|}~".unicodeScalars)

    /// Wraps a phrase in double quotes, escaping `\` and `"`.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\\" || scalar == "\"" { result.append("\\") }
            result.unicodeScalars.append(scalar)
        }
        return result + "\""
    }

    /// `text` without leading and trailing whitespace; most addresses have none, and looking
    /// at their first and last bytes is much cheaper than Foundation's trimming.
    private static func trimmedOfWhitespace(_ text: String) -> String {
        let plain: (UInt8) -> Bool = { $0 > 0x20 && $0 < 0x7F }
        if let first = text.utf8.first, let last = text.utf8.last, plain(first), plain(last) { return text }
        return text.trimmingCharacters(in: .whitespaces)
    }

    private static func rejectControlCharacters(in text: String) throws(MailError) {
        if HeaderText.containsLineBreak(text) {
            throw MailError.invalidAddress.with(
                "\(MailError.quote(text)) contains a line break or NUL; give one address on one line")
        }
    }

    private static func parseDisplayName(_ phrase: String, in text: String) throws(MailError) -> String? {
        guard phrase.hasPrefix("\"") else {
            if phrase.contains("\"") || phrase.contains("<") || phrase.contains(">") {
                throw MailError.invalidAddress.with(
                    "\(MailError.quote(text)) has quotes or angle brackets inside the name; "
                        + "quote the whole name: \"Doe, J\" <user@example.com>")
            }
            return phrase.isEmpty ? nil : phrase
        }
        var name = ""
        var escaped = false
        var closed = false
        for scalar in phrase.unicodeScalars.dropFirst() {
            if closed {
                throw MailError.invalidAddress.with(
                    "\(MailError.quote(text)) has text after the quoted name; put the address in <…> right after it")
            }
            if escaped {
                name.unicodeScalars.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "\"" {
                closed = true
            } else {
                name.unicodeScalars.append(scalar)
            }
        }
        guard closed else {
            throw MailError.invalidAddress.with(
                "\(MailError.quote(text)) has an unterminated quoted name; close it with a double quote")
        }
        return name
    }

    private static func validatedAddress(_ raw: String) throws(MailError) -> String {
        // Quoted only for an error message: quoting every valid address cost more than checking it.
        let shown = { MailError.quote(raw) }
        guard raw.utf8.count <= 254 else {
            throw MailError.invalidAddress.with("\(shown()) is longer than 254 characters; use a shorter address")
        }
        guard !raw.isEmpty else {
            throw MailError.invalidAddress.with("the address is empty; give one like user@example.com")
        }
        guard let at = raw.lastIndex(of: "@") else {
            throw MailError.invalidAddress.with("\(shown()) has no '@'; give one like user@example.com")
        }
        guard raw.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw MailError.invalidAddress.with(
                "\(shown()) contains spaces, control or non-ASCII characters; "
                    + "use a plain ASCII address (international domains in xn-- form)")
        }
        let local = raw[..<at]
        let domain = raw[raw.index(after: at)...].lowercased()
        try self.validateLocalPart(local, shown: shown)
        try self.validateDomain(domain, shown: shown)
        return "\(local)@\(domain)"
    }

    private static func validateLocalPart(_ local: Substring, shown: () -> String) throws(MailError) {
        guard !local.isEmpty else {
            throw MailError.invalidAddress.with("\(shown()) has nothing before the '@'; give one like user@example.com")
        }
        guard local.utf8.count <= 64 else {
            throw MailError.invalidAddress.with("\(shown()) has a local part over 64 characters; use a shorter one")
        }
        let isAtext: (Unicode.Scalar) -> Bool = { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || ("0"..."9").contains(scalar) || Self.atextSymbols.contains(scalar)
        }
        let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(isAtext) }) else {
            throw MailError.invalidAddress.with(
                "\(shown()) has a local part with a character such as '\"', ',' or '@', or a leading, "
                    + "trailing or double dot; use letters, digits and .!#$%&'*+-/=?^_`{|}~ only")
        }
    }

    private static func validateDomain(_ domain: String, shown: () -> String) throws(MailError) {
        guard !domain.isEmpty else {
            throw MailError.invalidAddress.with("\(shown()) has nothing after the '@'; give one like user@example.com")
        }
        guard domain.utf8.count <= 253 else {
            throw MailError.invalidAddress.with("\(shown()) has a domain over 253 characters; use a shorter one")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count > 1 || domain == "localhost" else {
            throw MailError.invalidAddress.with(
                "\(shown()) has a domain without a dot; use a full domain such as example.com (or localhost)")
        }
        for label in labels {
            let valid =
                (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            guard valid else {
                throw MailError.invalidAddress.with(
                    "\(shown()) has an invalid domain label \(MailError.quote(label)); labels are 1–63 letters, "
                        + "digits or inner hyphens, separated by single dots")
            }
        }
    }
}
