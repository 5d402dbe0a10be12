import Foundation

/// Where Retract keeps its state and how it addresses the world; every field has an
/// embedded default so `retract init && retract serve` needs no setup.
public struct RetractConfiguration: Sendable {
    /// The data directory: `vault.sqlite` and the file `outbox/`.
    public var dataDirectory: URL
    /// The folder of master key files.
    public var keysDirectory: URL
    /// The base of every personal link, e.g. `https://retract.example.com`.
    public var publicURL: String
    /// The service's own address, the From of every mail (`RETRACT_FROM`).
    public var serviceAddress: String
    /// An operator's folder of mail templates that override the bundled ones.
    public var templatesDirectory: URL?
    /// How long links live when the sender names no expiry.
    public var defaultExpiry: TimeInterval
    /// The undo window applied when the sender names no delay (`RETRACT_SEND_DELAY`).
    public var defaultSendDelay: TimeInterval
    /// SMTP transport URL (`RETRACT_SMTP_URL`); nil keeps the file outbox.
    public var smtpURL: String?
    /// Extra CA bundle (PEM) trusted for SMTP TLS (`RETRACT_SMTP_CA_FILE`).
    public var smtpCAFile: String?
    /// SMTP connections used at once (`RETRACT_SMTP_CONNECTIONS`, 1 to 16, default 4): the
    /// outbox worker delivers over each in its own lane, so the server works on one lane's
    /// mail while the client answers another, and a pause of the client (a commit, a claim)
    /// does not leave the server idle. A crash can duplicate at most one mail per connection.
    /// Only a queue of more than one claim batch (100 mails) opens more than one.
    public var smtpConnections = 4
    /// The largest `smtpConnections` accepted.
    public static let maximumSMTPConnections = 16
    /// The first retry after a temporary delivery failure (`RETRACT_RETRY_BASE`).
    public var retryBaseDelay: TimeInterval = 30
    /// How long temporary failures are retried before a mail fails for good
    /// (`RETRACT_RETRY_GIVE_UP`).
    public var deliveryGiveUpAfter: TimeInterval = 2 * 86_400
    /// How long a web session lives without a request before the sender must sign in again.
    public var sessionIdleTimeout: TimeInterval = 30 * 60
    /// Largest upload accepted by the API and the web app, attachments included, in bytes
    /// (`RETRACT_MAX_UPLOAD`; default 100 MiB); a larger request is refused with 413 and
    /// nothing is kept.
    public var maxUploadSize: Int = 100 << 20
    /// How long the access log keeps failed and refused opens (`RETRACT_ACCESS_LOG_RETENTION`,
    /// default 90 days); successful opens stay. Pruned by `retract serve` once an hour.
    public var accessLogRetention: TimeInterval = 90 * 86_400
    /// How often `retract serve` makes a new master key and re-seals everything under it,
    /// then retires the keys nothing needs any more (`RETRACT_KEY_ROTATION`, e.g. `24h`);
    /// nil (the default) leaves rotation to `retract keys rotate`.
    public var keyRotationInterval: TimeInterval?
    /// Most recipients (To, Cc and Bcc together) of one message (`RETRACT_MAX_RECIPIENTS`,
    /// default 1,000); more is refused before anything is stored.
    public var maxRecipients = 1_000
    /// Most attachments of one message (`RETRACT_MAX_ATTACHMENTS`, default 100); an upload
    /// with more is refused as soon as the reader meets the one too many.
    public var maxAttachments = 100
    /// The organisation's own mail domains for the SMTP gateway (`RETRACT_INTERNAL_DOMAINS`,
    /// a comma list, lower case); empty means the domains of the sender accounts.
    public var gatewayInternalDomains: [String] = []
    /// Which recipients the SMTP gateway seals (`RETRACT_SEAL`, default `external`).
    public var gatewaySealMode: GatewaySealMode = .external
    /// The subject tag that asks the gateway to seal a message (`RETRACT_SEAL_TAG`); it is
    /// removed from the subject before anything leaves.
    public var gatewaySealTag = "[secure]"
    /// Whether each sealed gateway message produces a receipt to its sender
    /// (`RETRACT_RECEIPTS=off` disables).
    public var gatewayReceipts = true
    /// How long the SMTP gateway holds the notifications of a sealed message before they
    /// leave (`RETRACT_GATEWAY_HOLD`, e.g. `60s`): the undo window of senders who never open
    /// the web app; the receipt reaches them at once with the manage link that cancels. Nil
    /// (off, the default) holds for `defaultSendDelay`, as for any other send.
    public var gatewayHold: TimeInterval?
    /// The hold of a gateway message with pre-send warnings (`RETRACT_GATEWAY_HOLD_FINDINGS`);
    /// nil holds it like any other (`gatewayHold`).
    public var gatewayHoldWithFindings: TimeInterval?
    /// Subject prefixes that mark a native recall request when its headers do not
    /// (`RETRACT_RECALL_PREFIXES`, comma list; localised Outlook writes others than `Recall:`).
    public var recallPrefixes = ["Recall:"]
    /// How far back a native recall request looks for the message it means
    /// (`RETRACT_RECALL_WINDOW`, default 30 days).
    public var recallWindow: TimeInterval = 30 * 86_400
    /// The domain of the recall addresses in gateway receipts (`RETRACT_RECALL_DOMAIN`); nil
    /// means the domain of the service address (`RETRACT_FROM`).
    public var recallDomain: String?

    /// The recall domain in force: `recallDomain`, or the service address's domain.
    public var effectiveRecallDomain: String {
        (recallDomain ?? serviceAddress.split(separator: "@").last.map(String.init) ?? "localhost").lowercased()
    }

    /// The embedded defaults, relative to the current directory.
    public init(
        dataDirectory: URL = URL(fileURLWithPath: ".retract"),
        keysDirectory: URL = URL(fileURLWithPath: "keys"),
        publicURL: String = "http://127.0.0.1:8080",
        serviceAddress: String = "retract@localhost",
        templatesDirectory: URL? = nil,
        defaultExpiry: TimeInterval = 30 * 86_400,
        defaultSendDelay: TimeInterval = 0
    ) {
        self.dataDirectory = dataDirectory
        self.keysDirectory = keysDirectory
        self.publicURL = publicURL
        self.serviceAddress = serviceAddress
        self.templatesDirectory = templatesDirectory
        self.defaultExpiry = defaultExpiry
        self.defaultSendDelay = defaultSendDelay
    }

    /// `1048576`, `512K`, `25M`, `1G` (case-insensitive) as bytes; nil for anything else,
    /// zero, or more than 1 TiB.
    public static func byteSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let factors: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        let factor = trimmed.last.flatMap { factors[$0] }
        guard let number = Int(factor == nil ? trimmed : String(trimmed.dropLast())), number > 0 else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: factor ?? 1)
        return overflow || bytes > 1 << 40 ? nil : bytes
    }

    /// The folder the file transport writes delivered mail into.
    public var outboxDirectory: URL { dataDirectory.appendingPathComponent("outbox") }
}
