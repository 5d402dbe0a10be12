import Foundation

/// Recall requests as Exchange writes them for recipients outside the tenant, built from
/// what real 2024–2025 messages on public mailing lists show (one text/plain part, the
/// Thread-Topic, the recall-report header, the traffic diagnostic), and the TNEF form of
/// older Outlook.
enum RecallFixtures {
    /// Outlook on the web / new Outlook: `…EE_MessageRecallEmail`.
    static func messageRecallEmail(subject: String, to: [String], cc: [String] = []) -> [UInt8] {
        exchange(subject: subject, to: to, cc: cc, diagnostic: "AM9PR02MB7202:EE_MessageRecallEmail")
    }

    /// Classic Outlook: `…EE_LegacyOutlookRecall`.
    static func legacyOutlookRecall(subject: String, to: [String], cc: [String] = []) -> [UInt8] {
        exchange(subject: subject, to: to, cc: cc, diagnostic: "DB8PR04MB6985:EE_LegacyOutlookRecall")
    }

    static func exchange(subject: String, to: [String], cc: [String], diagnostic: String) -> [UInt8] {
        var lines = [
            "From: Alice Example <alice@corp.test>",
            "To: \(to.joined(separator: ", "))",
        ]
        if !cc.isEmpty { lines.append("Cc: \(cc.joined(separator: ", "))") }
        lines += [
            "Subject: Recall: \(subject)",
            "Thread-Topic: \(subject)",
            "Thread-Index: AQHbO1yX2k0zY5b9Q0mZ8r1v3w7tZg==",
            "Date: Thu, 03 Dec 2026 12:10:00 +0000",
            "Message-ID: <AM9PR02MB72020C2B1F0C@AM9PR02MB7202.eurprd02.prod.outlook.com>",
            "Accept-Language: en-US",
            "Content-Language: en-US",
            "X-MS-Has-Attach:",
            "x-ms-exchange-recallreportgenerated: true",
            "X-MS-TrafficTypeDiagnostic: \(diagnostic)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=\"us-ascii\"",
            "Content-Transfer-Encoding: 7bit",
            "",
            "Alice Example would like to recall the message, \"\(subject)\".",
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// Older Outlook: a TNEF `winmail.dat` whose message class is `IPM.Outlook.Recall`, and
    /// no recall headers.
    static func tnefRecall(subject: String, to: [String]) -> [UInt8] {
        let tnef = tnefStream(messageClass: "IPM.Outlook.Recall")
        let base64 = Data(tnef).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn])
        let lines = [
            "From: Alice Example <alice@corp.test>",
            "To: \(to.joined(separator: ", "))",
            "Subject: Recall: \(subject)",
            "Date: Thu, 03 Dec 2026 12:10:00 +0000",
            "Message-ID: <tnef-recall-1@corp.test>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"tnef-b\"",
            "",
            "--tnef-b",
            "Content-Type: text/plain; charset=\"us-ascii\"",
            "",
            "",
            "--tnef-b",
            "Content-Type: application/ms-tnef; name=\"winmail.dat\"",
            "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment; filename=\"winmail.dat\"",
            "",
            base64.replacingOccurrences(of: "\r", with: "\r\n"),
            "--tnef-b--",
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// A TNEF stream: the signature, a key, attTnefVersion, then attMessageClass.
    static func tnefStream(messageClass: String) -> [UInt8] {
        func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        func attribute(level: UInt8, id: UInt32, _ data: [UInt8]) -> [UInt8] {
            let sum = data.reduce(0) { ($0 + UInt32($1)) & 0xFFFF }
            return [level] + le32(id) + le32(UInt32(data.count)) + data + [UInt8(sum & 0xFF), UInt8(sum >> 8)]
        }
        return le32(0x223E_9F78) + [0x01, 0x00] + attribute(level: 1, id: 0x0008_9006, le32(0x0001_0000))
            + attribute(level: 1, id: 0x0007_8008, Array(messageClass.utf8) + [0])
    }
}
