import Foundation
import Logging
import Mail
import RetractMetrics
import Seal
import Sodium
import Vault

/// The use cases of Retract — send, open, status, deliver — over one vault, one key ring,
/// the mail templates and a transport.
///
/// The CLI and the server both hold one of these; it is a value with no mutable state of
/// its own, so it is shared freely between tasks.
public struct RetractService: Sendable {
    /// Where things are and how links and mails are addressed.
    public let configuration: RetractConfiguration
    /// The vault.
    public let vault: VaultDatabase
    /// The master keys.
    public let keys: KeyRing
    /// The mail templates.
    public let templates: MailTemplates
    /// How mail leaves the building.
    public let transport: any MailTransport
    /// The clock; tests move it.
    public let now: @Sendable () -> Date
    /// Where operational events go; never a secret.
    public let logger: Logger
    /// Where the service counts what it does (`retract serve`'s `/metrics`); swift-metrics'
    /// global system unless a test gives it a registry of its own.
    public var metrics: RetractMetrics = .global
    /// A grant that exists nowhere, opened instead of an unknown token so that an unknown
    /// token costs the same work as a wrong key; the key ring's, under its active key.
    var decoy: DecoyGrant { keys.decoy }
    /// The in-memory key of staged uploads (API and web attachments waiting to be sealed).
    public let uploadStaging = UploadStaging()
    /// The line password verifications (web sign-in, SMTP AUTH) wait in.
    let passwordWork = PasswordWork()

    /// Assembles a service from its parts.
    public init(
        configuration: RetractConfiguration, vault: VaultDatabase, keys: KeyRing, templates: MailTemplates,
        transport: any MailTransport, logger: Logger = Logger(label: "retract"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.vault = vault
        self.keys = keys
        self.templates = templates
        self.transport = transport
        self.logger = logger
        self.now = now
    }

    /// Opens the vault and keys named by the configuration, with the file outbox transport.
    ///
    /// Refuses to start when no master key exists or a key file is readable by others.
    public static func open(
        _ configuration: RetractConfiguration, transport: (any MailTransport)? = nil,
        logger: Logger = Logger(label: "retract")
    ) throws -> RetractService {
        let keys = try KeyDirectory(url: configuration.keysDirectory).load()
        let vault = try VaultDatabase.open(directory: configuration.dataDirectory)
        let templates = try MailTemplates(overrideDirectory: configuration.templatesDirectory)
        return RetractService(
            configuration: configuration, vault: vault, keys: keys, templates: templates,
            transport: try transport ?? makeTransport(configuration), logger: logger)
    }

    /// SMTP when the configuration names a URL (over `smtpConnections` connections), the file
    /// outbox otherwise.
    public static func makeTransport(_ configuration: RetractConfiguration) throws -> any MailTransport {
        guard let url = configuration.smtpURL else {
            return FileOutboxTransport(directory: configuration.outboxDirectory)
        }
        let heloName = (try? MailAddress(parsing: configuration.serviceAddress))?.domain
        let smtp = try SMTPConfiguration(url: url, caFile: configuration.smtpCAFile, heloName: heloName)
        let connections = min(max(configuration.smtpConnections, 1), RetractConfiguration.maximumSMTPConnections)
        guard connections > 1 else { return SMTPTransport(configuration: smtp) }
        return MailTransportPool((0..<connections).map { _ in SMTPTransport(configuration: smtp) })
    }

    /// Creates the data directory, the vault and a first master key when they are missing.
    ///
    /// Idempotent: run twice, it changes nothing the second time. Returns the kid of a key
    /// it created, or nil.
    @discardableResult
    public static func initialize(_ configuration: RetractConfiguration) throws -> String? {
        let directory = KeyDirectory(url: configuration.keysDirectory)
        var created: String?
        if try !directory.hasKeys() {
            created = try directory.createKey().kid
        }
        _ = try directory.load()
        _ = try VaultDatabase.open(directory: configuration.dataDirectory)
        return created
    }
}
