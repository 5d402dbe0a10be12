/// Every string the reader pages show, per locale.
enum PageStrings {
    static func table(_ locale: PageLocale) -> [String: String] {
        locale == .zhHans ? allZH : allEN
    }

    /// The reader's strings and the web app's (`PageStrings+App.swift`), merged once.
    private static let allEN = en.merging(appEN) { reader, _ in reader }
    private static let allZH = zhHans.merging(appZH) { reader, _ in reader }

    static let en: [String: String] = [
        "lang": "en",
        "brand": "Retract",
        "interstitial_title": "A secure message for you",
        "interstitial_text": "Someone sent you a message through Retract. It stays sealed until you open it.",
        "open_button": "Open message",
        "no_key": "This link is missing its key (the part after #). Open the link exactly as it arrived in your mail.",
        "noscript": "Opening a message needs JavaScript, because the key in the link never leaves your browser otherwise.",
        "from": "From",
        "to": "To",
        "cc": "Cc",
        "sent": "Sent",
        "attachments": "Attachments",
        "download": "Download",
        "not_found_title": "Link not found",
        "not_found_text": "This link does not exist. Check that you copied the whole link from the mail.",
        "revoked_title": "Message withdrawn",
        "revoked_text": "This message was withdrawn by the sender on {date}.",
        "reason": "Reason:",
        "replaced_text": "A corrected version was mailed to you separately.",
        "expired_title": "Link expired",
        "expired_text": "This link is no longer valid. Ask the sender to send it again if you still need it.",
        "views_text": "This link has been opened as many times as the sender allowed.",
        "invalid_key_title": "Cannot open this message",
        "invalid_key_text": "The key in this link does not open the message. Open the link exactly as it arrived in your mail.",
        "too_many_title": "Too many attempts",
        "too_many_text": "Too many wrong keys were tried for this link. Try again later.",
        "damaged_title": "Message cannot be read",
        "damaged_text": "The stored message failed its integrity check. Ask the sender to send it again.",
        "bad_request_title": "Bad request",
        "bad_request_text": "The request was not understood.",
        "footer": "Sealed with Retract. The sender can withdraw this message at any time.",
        "utc": "UTC",
    ]

    static let zhHans: [String: String] = [
        "lang": "zh-Hans",
        "brand": "Retract",
        "interstitial_title": "您有一封加密邮件",
        "interstitial_text": "有人通过 Retract 给您发送了一封邮件。在您打开之前，它一直处于加密状态。",
        "open_button": "打开邮件",
        "no_key": "此链接缺少密钥（# 之后的部分）。请按邮件中收到的原样打开链接。",
        "noscript": "打开邮件需要启用 JavaScript，这样链接中的密钥才不会离开您的浏览器。",
        "from": "发件人",
        "to": "收件人",
        "cc": "抄送",
        "sent": "发送时间",
        "attachments": "附件",
        "download": "下载",
        "not_found_title": "链接不存在",
        "not_found_text": "此链接不存在。请确认您复制了邮件中的完整链接。",
        "revoked_title": "邮件已撤回",
        "revoked_text": "发件人已于 {date} 撤回此邮件。",
        "reason": "原因：",
        "replaced_text": "更正后的版本已另行发送给您。",
        "expired_title": "链接已过期",
        "expired_text": "此链接已失效。如仍需要，请联系发件人重新发送。",
        "views_text": "此链接的打开次数已达到发件人设定的上限。",
        "invalid_key_title": "无法打开此邮件",
        "invalid_key_text": "此链接中的密钥无法打开邮件。请按邮件中收到的原样打开链接。",
        "too_many_title": "尝试次数过多",
        "too_many_text": "此链接的错误密钥尝试次数过多，请稍后再试。",
        "damaged_title": "邮件无法读取",
        "damaged_text": "存储的邮件未通过完整性校验。请联系发件人重新发送。",
        "bad_request_title": "请求无效",
        "bad_request_text": "无法理解此请求。",
        "footer": "由 Retract 加密。发件人可随时撤回此邮件。",
        "utc": "UTC",
    ]
}
