import Foundation
import Mail

extension RetractConfiguration {
    /// Applies the SMTP gateway's settings from environment-style values (`RETRACT_SEAL`,
    /// `RETRACT_SEAL_TAG`, `RETRACT_INTERNAL_DOMAINS`, `RETRACT_RECEIPTS`,
    /// `RETRACT_RECALL_PREFIXES`, `RETRACT_RECALL_WINDOW`, `RETRACT_RECALL_DOMAIN`,
    /// `RETRACT_GATEWAY_HOLD`, `RETRACT_GATEWAY_HOLD_FINDINGS`); an unset or empty
    /// value keeps the default, an unacceptable one throws naming the variable.
    public mutating func applyGatewaySettings(_ value: (String) -> String?) throws(RetractError) {
        if let text = value("RETRACT_INTERNAL_DOMAINS") {
            gatewayInternalDomains = try Self.internalDomains(text)
        }
        if let text = value("RETRACT_SEAL") {
            guard let mode = GatewaySealMode(parsing: text) else {
                throw .invalidInput("RETRACT_SEAL \(text.debugDescription) is not a mode; use external, all or tagged")
            }
            gatewaySealMode = mode
        }
        if let text = value("RETRACT_SEAL_TAG") {
            let tag = text.trimmingCharacters(in: .whitespaces)
            guard !tag.isEmpty, !tag.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
                tag.count <= 64
            else {
                throw .invalidInput(
                    "RETRACT_SEAL_TAG \(text.debugDescription) must be 1 to 64 printable characters, like [secure]")
            }
            gatewaySealTag = tag
        }
        if let text = value("RETRACT_RECALL_PREFIXES") {
            let prefixes = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            guard !prefixes.isEmpty, prefixes.allSatisfy({ $0.count <= 64 && !HeaderText.containsLineBreak($0) }) else {
                throw .invalidInput(
                    "RETRACT_RECALL_PREFIXES \(text.debugDescription) must be a comma list of subject prefixes, like Recall:,Rappel :"
                )
            }
            recallPrefixes = prefixes
        }
        if let text = value("RETRACT_RECALL_WINDOW") {
            recallWindow = try DurationText.seconds(text, option: "RETRACT_RECALL_WINDOW", bounds: .expiry)
        }
        if let text = value("RETRACT_RECALL_DOMAIN") {
            guard !text.contains(","), let domain = (try? Self.internalDomains(text))?.first else {
                throw .invalidInput("RETRACT_RECALL_DOMAIN \(text.debugDescription) must be one domain, like retract.corp.example")
            }
            recallDomain = domain
        }
        if let text = value("RETRACT_GATEWAY_HOLD") {
            gatewayHold = try Self.hold(text, option: "RETRACT_GATEWAY_HOLD")
        }
        if let text = value("RETRACT_GATEWAY_HOLD_FINDINGS") {
            gatewayHoldWithFindings = try Self.hold(text, option: "RETRACT_GATEWAY_HOLD_FINDINGS")
        }
        if let text = value("RETRACT_RECEIPTS") {
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "on", "yes", "true", "1": gatewayReceipts = true
            case "off", "no", "false", "0": gatewayReceipts = false
            default: throw .invalidInput("RETRACT_RECEIPTS \(text.debugDescription) must be on or off")
            }
        }
    }

    /// A gateway hold: `off`, or a duration of at most 30 days (like `--delay`).
    static func hold(_ text: String, option: String) throws(RetractError) -> TimeInterval? {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "off" { return nil }
        return try DurationText.seconds(text, option: option, bounds: .delay)
    }

    /// How long the gateway holds a sealed message's notifications: with warnings among the
    /// pre-send findings `gatewayHoldWithFindings` when set, else `gatewayHold`, else the
    /// send delay every send has.
    public func gatewayHold(hasWarnings: Bool) -> TimeInterval {
        let plain = gatewayHold ?? defaultSendDelay
        guard hasWarnings, let longer = gatewayHoldWithFindings else { return plain }
        return max(plain, longer)
    }

    /// A comma list of domains, lower-cased, blanks and a leading `@` removed; throws for an
    /// entry that is not a domain name.
    public static func internalDomains(_ text: String) throws(RetractError) -> [String] {
        var domains: [String] = []
        for item in text.split(separator: ",") {
            var domain = item.trimmingCharacters(in: .whitespaces).lowercased()
            if domain.hasPrefix("@") { domain.removeFirst() }
            guard !domain.isEmpty else { continue }
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
            guard domain.allSatisfy({ allowed.contains($0) || !$0.isASCII }), !domain.hasPrefix("."),
                !domain.hasSuffix("."), !domain.contains("..")
            else {
                throw .invalidInput(
                    "RETRACT_INTERNAL_DOMAINS entry \(domain.debugDescription) is not a domain; use a comma list like corp.example,corp.example.net"
                )
            }
            if !domains.contains(domain) { domains.append(domain) }
        }
        return domains
    }
}
