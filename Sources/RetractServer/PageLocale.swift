/// The language of a page: English or Simplified Chinese.
enum PageLocale: String, Sendable {
    case en
    case zhHans = "zh-Hans"

    /// The reader's choice from `Accept-Language`; Chinese when it is the most preferred
    /// language that we offer, English otherwise.
    static func negotiate(acceptLanguage: String?, fallback: String? = nil) -> PageLocale {
        guard let acceptLanguage, !acceptLanguage.isEmpty else {
            return fallback.flatMap(PageLocale.init(rawValue:)) ?? .en
        }
        let ranked = acceptLanguage.split(separator: ",").enumerated().compactMap {
            offset, item -> (tag: String, q: Double, offset: Int)? in
            let pieces = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), !tag.isEmpty else { return nil }
            var q = 1.0
            for piece in pieces.dropFirst() where piece.hasPrefix("q=") {
                q = Double(piece.dropFirst(2)) ?? 0
            }
            return (tag, q, offset)
        }.filter { $0.q > 0 }.sorted { ($0.q, -$0.offset) > ($1.q, -$1.offset) }
        for entry in ranked {
            if entry.tag.hasPrefix("zh") { return .zhHans }
            if entry.tag.hasPrefix("en") { return .en }
        }
        return fallback.flatMap(PageLocale.init(rawValue:)) ?? .en
    }
}
