import Testing

@testable import Mail

@Suite("Mail locales")
struct MailLocaleTests {
    @Test(
        "common tags map to a supported locale",
        arguments: [
            ("en", MailLocale.en), ("EN-gb", .en), ("en_US", .en), ("zh-Hans", .zhHans), ("zh", .zhHans),
            ("zh-CN", .zhHans), ("zh_hans_cn", .zhHans), ("zh-SG", .zhHans),
        ])
    func parses(text: String, locale: MailLocale) throws {
        #expect(try MailLocale(parsing: text) == locale)
    }

    @Test(
        "unsupported tags, Traditional Chinese included, are refused",
        arguments: ["", "fr", "zh-Hant", "zh-TW", "zh-HK", "english"])
    func refuses(text: String) {
        #expect(throws: MailError.invalidLocale) { try MailLocale(parsing: text) }
    }
}
