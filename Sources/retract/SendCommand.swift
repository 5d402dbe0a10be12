import ArgumentParser
import Foundation
import RetractCore

/// `retract send`: seal a message and mail each recipient a personal link.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send", abstract: "Seal a message into the vault and mail each recipient a personal link.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The sender: addr or \"Name <addr>\".") var from: String
    @Option(help: "A recipient (repeat for more).") var to: [String] = []
    @Option(help: "A copy recipient (repeat for more).") var cc: [String] = []
    @Option(help: "A hidden recipient: gets their own notification, named in nobody else's.") var bcc: [String] = []
    @Option(help: "The subject (it travels in the clear in the notification mail).") var subject: String
    @Option(help: "The body text.") var body: String?
    @Option(help: "Read the body text from a file.") var bodyFile: String?
    @Option(help: "Attach a file (repeat for more).") var attach: [String] = []
    @Option(help: "How long links open: 30s, 15m, 12h, 7d, 2w.") var expires: String = "30d"
    @Option(help: "Successful opens allowed per recipient (no limit by default).") var maxViews: Int?
    @Option(help: "Undo window before notifications leave (env RETRACT_SEND_DELAY).") var delay: String?
    @Option(help: "Locale of the mails and pages: en or zh-Hans.") var locale: String = "en"
    @Option(help: "Base of the links (env RETRACT_PUBLIC_URL, default http://127.0.0.1:8080).") var publicURL: String?
    @Flag(help: "Refuse to send when a pre-send check warns.") var strict = false
    @Flag(help: "Open only with a 6-digit code mailed to the recipient when they open the link.") var verify = false
    @Flag(help: "Print each recipient's personal link (secret).") var showLinks = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await Console.run {
            let text = try bodyText()
            let service = try RetractService.open(try global.configuration(publicURL: publicURL), logger: try CommandLogger.make())
            let draft = Draft(
                from: from, to: to, cc: cc, bcc: bcc, subject: subject, body: text,
                attachments: attach.map { URL(fileURLWithPath: $0) },
                expiresIn: try DurationText.seconds(expires, option: "--expires", bounds: .expiry), maxViews: maxViews,
                delay: try delay.map { try DurationText.seconds($0, option: "--delay", bounds: .delay) }, locale: locale,
                strict: strict, verify: verify)
            let receipt = try await service.send(draft)
            await service.transport.closeConnections()
            for finding in receipt.findings {
                finding.severity == .warning ? Console.warning(finding.message) : Console.note(finding.message)
            }
            if json {
                try Console.json(SendOutput(receipt, showLinks: showLinks))
            } else {
                Console.out("message \(receipt.messageID)")
                for recipient in receipt.recipients {
                    var line = "  \(recipient.kind.padding(toLength: 4, withPad: " ", startingAt: 0)) \(recipient.address)  \(recipient.delivery)"
                    if showLinks { line += "  \(recipient.link)" }
                    Console.out(line)
                }
                if receipt.recipients.contains(where: { $0.delivery == "queued" }) {
                    Console.out("notifications held until \(Console.date(receipt.deliverAfter)); `retract serve` delivers them")
                }
                if receipt.recipients.contains(where: { $0.delivery == "retrying" }) {
                    Console.note("some notifications could not be delivered yet; `retract outbox` says why, `retract serve` retries")
                }
            }
        }
    }

    private func bodyText() throws -> String {
        switch (body, bodyFile) {
        case (.some, .some):
            throw RetractError.invalidInput("--body and --body-file conflict; give one of them")
        case (nil, nil):
            throw RetractError.invalidInput("no body; give --body TEXT or --body-file FILE")
        case (let text?, nil):
            return text
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RetractError.invalidInput("--body-file \(path) cannot be read")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw RetractError.invalidInput("--body-file \(path) is not UTF-8 text")
            }
            return text
        }
    }
}

/// The JSON shape of `retract send --json`.
struct SendOutput: Encodable {
    struct Recipient: Encodable {
        let address: String
        let kind: String
        let delivery: String
        let link: String?
    }

    let id: String
    let recipients: [Recipient]
    let findings: [Finding]
    let deliverAfter: Date
    let expiresAt: Date?

    init(_ receipt: SendReceipt, showLinks: Bool) {
        id = receipt.messageID
        recipients = receipt.recipients.map {
            Recipient(address: $0.address, kind: $0.kind, delivery: $0.delivery, link: showLinks ? $0.link : nil)
        }
        findings = receipt.findings
        deliverAfter = receipt.deliverAfter
        expiresAt = receipt.expiresAt
    }
}
