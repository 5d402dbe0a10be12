import Foundation
import Mail
import RetractCore

/// A native "Recall This Message" request from Outlook / Exchange, recognised among the mail
/// the gateway receives, and the subject of the message it wants back.
///
/// What Exchange sends to recipients outside the tenant: one `text/plain` part, `Subject:
/// Recall: <original subject>`, a body `<Name> would like to recall the message,
/// "<original subject>".`, `Thread-Topic: <original subject>`,
/// `x-ms-exchange-recallreportgenerated: true`, and an `X-MS-TrafficTypeDiagnostic` ending
/// in `EE_MessageRecallEmail` (Outlook on the web) or `EE_LegacyOutlookRecall` (classic
/// Outlook). Older Outlook sends a TNEF `winmail.dat` of class `IPM.Outlook.Recall` instead.
///
/// Recognised on those headers first; without them only when the subject starts with one of
/// the configured prefixes (`RETRACT_RECALL_PREFIXES`, localised clients write others) *and*
/// the rest of the mail looks like a recall: the TNEF class, a `Thread-Topic` equal to the
/// rest of the subject, or the English recall sentence in the body. Recognising is not
/// revoking: the message must also match a sealed message of the same sender (see
/// `RetractService.handleRecall`).
public struct RecallRequest: Sendable, Equatable {
    /// How it was recognised.
    public enum Form: String, Sendable, Equatable {
        /// `X-MS-TrafficTypeDiagnostic: …EE_MessageRecallEmail` (Outlook on the web, new Outlook).
        case messageRecallEmail
        /// `X-MS-TrafficTypeDiagnostic: …EE_LegacyOutlookRecall` (classic Outlook).
        case legacyOutlookRecall
        /// `x-ms-exchange-recallreportgenerated: true` without a known diagnostic.
        case recallReportHeader
        /// A TNEF `winmail.dat` of message class `IPM.Outlook.Recall`.
        case tnef
        /// A configured subject prefix, with a matching Thread-Topic or recall sentence.
        case subjectPrefix
    }

    /// How it was recognised.
    public var form: Form
    /// The subject of the message to recall (Thread-Topic, or the subject without its prefix).
    public var originalSubject: String

    /// Largest mail whose body is read (for the TNEF class or the recall sentence): a recall
    /// request is a few kilobytes, a TNEF one a few more.
    public static let maximumSize = 256 << 10
    /// The English sentence Exchange writes.
    static let recallSentence = "would like to recall the message"

    /// The recall request a received message is, or nil.
    ///
    /// Decided on the header fields the gateway has already read; the file is opened only
    /// for a message whose subject carries one of `prefixes` and that has no recall headers
    /// (older Outlook's TNEF form, or a client that wrote only the sentence), so ordinary
    /// mail costs no second read. A TNEF recall is therefore recognised by its prefix too.
    public static func recognise(headers: IncomingMailHeaders, file: URL, prefixes: [String]) -> RecallRequest? {
        let subject = headers.subject
        let topic = headers.other[.threadTopic]
        let withoutPrefix = strippingPrefix(subject, prefixes: prefixes)
        func request(_ form: Form) -> RecallRequest? {
            let original = topic.flatMap { $0.isEmpty ? nil : $0 } ?? withoutPrefix ?? subject
            return original.isEmpty ? nil : RecallRequest(form: form, originalSubject: original)
        }
        let diagnostic = headers.other[.trafficTypeDiagnostic] ?? ""
        if diagnostic.hasSuffix("EE_MessageRecallEmail") { return request(.messageRecallEmail) }
        if diagnostic.hasSuffix("EE_LegacyOutlookRecall") { return request(.legacyOutlookRecall) }
        if headers.other[.recallReportGenerated]?.lowercased() == "true" { return request(.recallReportHeader) }
        guard let rest = withoutPrefix, !rest.isEmpty else { return nil }
        let contentType = (headers.other[.contentType] ?? "text/plain").lowercased()
        if contentType.hasPrefix("multipart/") {
            guard let bytes = smallFile(file), let tnef = tnefPayload(bytes),
                TNEFMessageClass.read(tnef)?.lowercased() == "ipm.outlook.recall"
            else { return nil }
            return request(.tnef)
        }
        guard contentType.hasPrefix("text/plain") else { return nil }
        if topic == rest { return RecallRequest(form: .subjectPrefix, originalSubject: rest) }
        guard let bytes = smallFile(file), let mail = try? ParsedMail(parsing: bytes),
            mail.textBody?.lowercased().contains(recallSentence) == true
        else { return nil }
        return RecallRequest(form: .subjectPrefix, originalSubject: rest)
    }

    /// The file's bytes when it is at most `maximumSize`.
    static func smallFile(_ file: URL) -> [UInt8]? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path),
            let size = (attributes[.size] as? NSNumber)?.intValue, size <= maximumSize,
            let data = try? Data(contentsOf: file)
        else { return nil }
        return [UInt8](data)
    }

    /// The subject after the first matching prefix (compared case-insensitively, blanks
    /// after it removed), or nil when none matches.
    static func strippingPrefix(_ subject: String, prefixes: [String]) -> String? {
        for prefix in prefixes where !prefix.isEmpty {
            guard subject.count >= prefix.count,
                subject.prefix(prefix.count).compare(prefix, options: [.caseInsensitive]) == .orderedSame
            else { continue }
            return subject.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The decoded body of the first part that is `application/ms-tnef` or named
    /// `winmail.dat`, found by a line scan of the (small) message; nil when there is none.
    static func tnefPayload(_ bytes: [UInt8]) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0[...] }
        var index = 0
        while index < lines.count {
            let lower = lines[index].lowercased()
            guard lower.contains("application/ms-tnef") || lower.contains("winmail.dat") else {
                index += 1
                continue
            }
            // The rest of this part's header block, then its body up to the next boundary.
            var headerEnd = index
            while headerEnd < lines.count, !lines[headerEnd].isEmpty { headerEnd += 1 }
            let block = lines[..<headerEnd].suffix(from: max(0, index - 8)).joined(separator: "\n").lowercased()
            let base64 = block.contains("content-transfer-encoding: base64")
            var body: [Substring] = []
            var line = headerEnd + 1
            while line < lines.count, !lines[line].hasPrefix("--") {
                body.append(lines[line])
                line += 1
            }
            guard base64 else { return nil }
            return Data(base64Encoded: body.joined(), options: .ignoreUnknownCharacters).map { [UInt8]($0) }
        }
        return nil
    }
}
