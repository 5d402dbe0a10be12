/// A language Retract writes mail in; each has a template folder named after its raw value.
public enum MailLocale: String, Sendable, Codable, CaseIterable {
    /// English.
    case en = "en"
    /// Simplified Chinese.
    case zhHans = "zh-Hans"

    /// Parses a BCP 47-like tag, case-insensitively and with `-` or `_`: `en`, `en-GB` → English;
    /// `zh-Hans`, `zh`, `zh-CN`, `zh-SG`, `zh-Hans-CN` → Simplified Chinese. Traditional Chinese
    /// and other languages are refused rather than silently answered in the wrong script.
    public init(parsing text: String) throws(MailError) {
        let subtags = text.lowercased().split(omittingEmptySubsequences: false) { $0 == "-" || $0 == "_" }
        switch subtags.first {
        case "en":
            self = .en
            return
        case "zh":
            let rest = subtags.dropFirst()
            if rest.isEmpty || rest.first == "hans" || (rest.count == 1 && ["cn", "sg", "my"].contains(rest.first)) {
                self = .zhHans
                return
            }
        default:
            break
        }
        let supported = Self.allCases.map(\.rawValue).joined(separator: ", ")
        throw MailError.invalidLocale.with(
            "\(MailError.quote(text)) is not a supported locale; use one of: \(supported)")
    }
}
