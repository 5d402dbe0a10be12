/// The reader pages' words for recipient verification, per locale; passed to the templates
/// as `v` beside the general strings `t`.
enum VerificationPageStrings {
    static func table(_ locale: PageLocale) -> [String: String] {
        locale == .zhHans ? zhHans : en
    }

    static let en: [String: String] = [
        "prompt": "The sender asked us to check that this message reaches the right person. "
            + "We will mail a 6-digit code to {address}; enter it on the next page to open the message.",
        "send_code": "Mail me a code",
        "code_title": "Enter your code",
        "code_sent": "We mailed a 6-digit code to {address}. It works for {minutes} minutes.",
        "code_label": "6-digit code",
        "resend": "Mail a new code",
        "code_required": "This message opens only with the code mailed to {address}. Ask for a code first.",
        "invalid_code": "That code is wrong or has expired. Attempts left before a 15-minute lock: {remaining}.",
        "locked_text": "Too many wrong codes or code requests for this link. Try again later.",
    ]

    static let zhHans: [String: String] = [
        "prompt": "发件人要求确认此邮件送达正确的收件人。我们会向 {address} 发送一个 6 位验证码，请在下一页输入验证码以打开邮件。",
        "send_code": "发送验证码",
        "code_title": "输入验证码",
        "code_sent": "我们已向 {address} 发送 6 位验证码，{minutes} 分钟内有效。",
        "code_label": "6 位验证码",
        "resend": "重新发送验证码",
        "code_required": "此邮件需要发送到 {address} 的验证码才能打开。请先获取验证码。",
        "invalid_code": "验证码错误或已过期。再错 {remaining} 次，此链接将锁定 15 分钟。",
        "locked_text": "此链接的验证码错误或申请次数过多，请稍后再试。",
    ]
}
