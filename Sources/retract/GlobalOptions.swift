import ArgumentParser
import Foundation
import RetractCore

/// Options every command takes: where the data and the keys live.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Data directory: the vault and the file outbox (env RETRACT_DATA_DIR).")
    var dataDir: String = Environment.value("RETRACT_DATA_DIR") ?? ".retract"

    @Option(help: "Folder of master key files (env RETRACT_KEYS_DIR).")
    var keysDir: String = Environment.value("RETRACT_KEYS_DIR") ?? "keys"

    @Option(
        help: "Deliver over SMTP: smtp://host:port, smtp+starttls://, smtps://, optional user:pass@ (env RETRACT_SMTP_URL). Without it mail goes to the file outbox.")
    var smtpURL: String?

    /// The configuration these options and the environment describe.
    func configuration(publicURL: String? = nil) throws -> RetractConfiguration {
        var configuration = RetractConfiguration(
            dataDirectory: URL(fileURLWithPath: dataDir), keysDirectory: URL(fileURLWithPath: keysDir))
        if let publicURL = publicURL ?? Environment.value("RETRACT_PUBLIC_URL") {
            configuration.publicURL = try Self.checkedPublicURL(publicURL)
        }
        if let from = Environment.value("RETRACT_FROM") { configuration.serviceAddress = from }
        if let templates = Environment.value("RETRACT_TEMPLATES_DIR") {
            configuration.templatesDirectory = URL(fileURLWithPath: templates)
        }
        if let delay = Environment.value("RETRACT_SEND_DELAY") {
            configuration.defaultSendDelay = try DurationText.seconds(delay, option: "RETRACT_SEND_DELAY", bounds: .delay)
        }
        configuration.smtpURL = smtpURL ?? Environment.value("RETRACT_SMTP_URL")
        configuration.smtpCAFile = Environment.value("RETRACT_SMTP_CA_FILE")
        if let count = try Environment.count(
            "RETRACT_SMTP_CONNECTIONS", in: 1...RetractConfiguration.maximumSMTPConnections)
        {
            configuration.smtpConnections = count
        }
        if let base = Environment.value("RETRACT_RETRY_BASE") {
            configuration.retryBaseDelay = max(1, try DurationText.seconds(base, option: "RETRACT_RETRY_BASE"))
        }
        if let giveUp = Environment.value("RETRACT_RETRY_GIVE_UP") {
            configuration.deliveryGiveUpAfter = try DurationText.seconds(giveUp, option: "RETRACT_RETRY_GIVE_UP")
        }
        if let retention = Environment.value("RETRACT_ACCESS_LOG_RETENTION") {
            configuration.accessLogRetention = try DurationText.seconds(
                retention, option: "RETRACT_ACCESS_LOG_RETENTION")
        }
        if let rotation = Environment.value("RETRACT_KEY_ROTATION"), rotation.lowercased() != "off" {
            configuration.keyRotationInterval = try DurationText.seconds(
                rotation, option: "RETRACT_KEY_ROTATION",
                bounds: .init(minimum: 1, maximum: 3_650 * 86_400, maximumText: "10 years (3650d)", minimumText: "1 second"))
        }
        if let size = Environment.value("RETRACT_MAX_UPLOAD") {
            guard let bytes = RetractConfiguration.byteSize(size) else {
                throw RetractError.invalidInput(
                    "RETRACT_MAX_UPLOAD \(size.debugDescription) is not a size; use bytes or a number with K, M or G, like 100M"
                )
            }
            configuration.maxUploadSize = bytes
        }
        if let count = try Environment.count("RETRACT_MAX_RECIPIENTS", in: 1...100_000) {
            configuration.maxRecipients = count
        }
        if let count = try Environment.count("RETRACT_MAX_ATTACHMENTS", in: 0...10_000) {
            configuration.maxAttachments = count
        }
        try configuration.applyGatewaySettings(Environment.value)
        return configuration
    }

    static func checkedPublicURL(_ text: String) throws -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil, url.query == nil, url.fragment == nil
        else {
            throw RetractError.invalidInput("public URL \(text.debugDescription) must be an http(s) URL like https://retract.example.com")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}

/// Reads the environment; empty values count as unset.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A whole-number setting within `range`, nil when unset, or a one-line error naming it.
    static func count(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let count = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(count) else {
            throw RetractError.invalidInput(
                "\(name) \(text.debugDescription) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return count
    }
}
