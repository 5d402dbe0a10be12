import Foundation

/// The checks run on every draft before anything is sealed: the mistakes that make people
/// wish they could recall a mail.
public enum PreSendCheck {
    /// Providers whose near-misses are common typos (gmial.com, outlok.com, qq.con).
    static let commonProviders = [
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
        "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "qq.com", "163.com", "126.com",
        "sina.com", "foxmail.com", "yandex.ru", "mail.ru",
    ]

    static let attachmentWords = ["attach", "enclosed", "附件", "附上", "见附件"]

    /// Outside organisations in one mail from which on it looks like auto-complete picked
    /// the wrong people (docs/checks.md).
    static let unrelatedOrganisationsThreshold = 3
    /// Outside recipients in To and Cc beyond which they had better be Bcc.
    static let visibleExternalsThreshold = 5
    /// Second-level labels under a two-letter country code that belong to the suffix
    /// (`example.co.uk`, `example.com.cn`), so the organisation is the label before them.
    static let countrySecondLevels: Set<String> = ["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"]

    /// The findings for a draft, in a stable order.
    ///
    /// `visibleRecipients` are those in To and Cc (who see each other's addresses); nil
    /// when the caller does not tell them apart, and then the Bcc check is left out.
    public static func findings(
        sender: String, subject: String, body: String, attachmentCount: Int, recipients: [String],
        visibleRecipients: [String]? = nil
    ) -> [Finding] {
        var findings: [Finding] = []
        let text = (subject + "\n" + body).lowercased()
        if attachmentCount == 0, let word = attachmentWords.first(where: { text.contains($0) }) {
            findings.append(
                Finding(
                    code: "missing_attachment", severity: .warning,
                    message: "the message mentions an attachment (\"\(word)\") but nothing is attached"))
        }
        if subject.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            findings.append(Finding(code: "empty_subject", severity: .warning, message: "the subject is empty"))
        }
        if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            findings.append(Finding(code: "empty_body", severity: .warning, message: "the body is empty"))
        }
        var seen: Set<String> = []
        for address in recipients {
            let key = address.lowercased()
            if !seen.insert(key).inserted {
                findings.append(
                    Finding(
                        code: "duplicate_recipient", severity: .warning,
                        message: "\(address) is named more than once; it gets one link"))
            }
        }
        let domains = orderedUnique(recipients.map(domain(of:)))
        for candidate in domains where !commonProviders.contains(candidate) {
            let others = domains.filter { $0 != candidate } + commonProviders
            if let near = others.first(where: { isNearMiss(candidate, $0) }) {
                findings.append(
                    Finding(
                        code: "lookalike_domain", severity: .warning,
                        message: "recipient domain \(candidate) is one or two letters away from \(near); check the address"))
            }
        }
        let senderDomain = domain(of: sender)
        let external = orderedUnique(recipients.filter { domain(of: $0) != senderDomain })
        // Free-mail providers are people, not organisations: they do not count.
        let organisations = orderedUnique(
            external.map { domain(of: $0) }.filter { !commonProviders.contains($0) }.map(organisation(of:)))
        if organisations.count >= unrelatedOrganisationsThreshold {
            findings.append(
                Finding(
                    code: "unrelated_domains", severity: .warning,
                    message:
                        "recipients from \(organisations.count) unrelated outside organisations (\(organisations.joined(separator: ", "))); check that auto-complete picked the right people"
                ))
        }
        if let visible = visibleRecipients {
            let visibleExternal = orderedUnique(visible.filter { domain(of: $0) != senderDomain })
            if visibleExternal.count > visibleExternalsThreshold {
                findings.append(
                    Finding(
                        code: "visible_externals", severity: .warning,
                        message:
                            "\(visibleExternal.count) outside recipients in To and Cc see each other's addresses; put them in Bcc"
                    ))
            }
        }
        if !external.isEmpty {
            findings.append(
                Finding(
                    code: "external_recipients", severity: .note,
                    message: "external recipients: " + external.joined(separator: ", ")))
        }
        return findings
    }

    static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }

    /// The organisation a domain belongs to: its last two labels, or three under a country's
    /// second level (`sales.client.example` and `client.example` are one; `a.co.uk` too).
    static func organisation(of domain: String) -> String {
        let labels = domain.split(separator: ".").map(String.init)
        guard labels.count > 2 else { return domain }
        let last = labels[labels.count - 1]
        let second = labels[labels.count - 2]
        let keep = last.count == 2 && countrySecondLevels.contains(second) ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }

    static func orderedUnique(_ items: [String]) -> [String] {
        var seen: Set<String> = []
        return items.filter { seen.insert($0.lowercased()).inserted }
    }

    /// One or two edits apart (insert, delete, substitute, swap neighbours) but not equal.
    static func isNearMiss(_ a: String, _ b: String) -> Bool {
        guard a != b, abs(a.count - b.count) <= 2, min(a.count, b.count) >= 4 else { return false }
        let distance = editDistance(Array(a), Array(b))
        return distance >= 1 && distance <= 2
    }

    /// Optimal string alignment distance (Damerau–Levenshtein without repeated edits).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
