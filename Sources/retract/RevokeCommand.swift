import ArgumentParser
import Foundation
import RetractCore

/// `retract revoke ID`: take a message back, and tell everyone affected.
struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a message for all or some recipients; notices and the recall report go out automatically.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The message id.") var id: String
    @Option(help: "Revoke only this recipient (repeat for more); all when omitted.") var recipient: [String] = []
    @Option(help: "Why; it goes into every notice.") var reason: String?
    @Option(help: "Who gets a notice: all, opened or none.") var notify: String = "all"
    @Option(help: "Whether you get the recall report by mail: report or none.") var notifySender: String = "report"
    @Option(help: "Send a corrected version with this body.") var replaceBody: String?
    @Option(help: "Read the corrected body from a file.") var replaceBodyFile: String?
    @Option(help: "Attach a file to the corrected version (repeat for more).") var replaceAttach: [String] = []
    @Option(help: "Subject of the corrected version (the original's by default).") var replaceSubject: String?
    @Option(help: "Base of the replacement links (env RETRACT_PUBLIC_URL).") var publicURL: String?
    @Flag(help: "Print the recall report as JSON.") var json = false

    func run() async throws {
        try await Console.run {
            guard let policy = RevokeRequest.NoticePolicy(rawValue: notify) else {
                throw RetractError.invalidInput("--notify \(notify.debugDescription) is not one of all, opened, none")
            }
            guard ["report", "none"].contains(notifySender) else {
                throw RetractError.invalidInput(
                    "--notify-sender \(notifySender.debugDescription) is not one of report, none")
            }
            let replacement = try replacementRequest()
            let service = try RetractService.open(
                try global.configuration(publicURL: publicURL), logger: try CommandLogger.make())
            // The report is printed as soon as the keys are gone and the notices queued; the
            // notices are delivered afterwards, before the command exits, as `retract send`
            // delivers its notifications. A mail that cannot go out now stays queued for
            // `retract serve`'s worker.
            let report = try await service.revokeQueuingNotices(
                RevokeRequest(
                    messageID: id, recipients: recipient, reason: reason, notify: policy, replacement: replacement,
                    notifySender: notifySender == "report"))
            try printReport(report)
            _ = await service.deliverDueMail()
            await service.transport.closeConnections()
        }
    }

    private func printReport(_ report: RecallReport) throws {
        if json { return try Console.json(report) }
        Console.out("message \(report.id) revoked at \(Console.date(report.revokedAt))")
        for row in report.recipients {
            let opened = row.openedAt.map { "opened \(Console.date($0))" } ?? "never opened"
            let state = row.alreadyRevoked ? "already revoked" : Self.describe(row.outcome)
            Console.out("  \(row.address)  \(state)  \(opened)  notice: \(row.notice)")
        }
        if let replacementID = report.replacementId {
            Console.out("corrected version sent as message \(replacementID)")
        }
        if report.recipients.allSatisfy(\.alreadyRevoked) {
            Console.note("everything named was already revoked; nothing was sent")
        }
    }

    static func describe(_ outcome: String) -> String {
        switch outcome {
        case "cancelled_before_delivery": "cancelled before delivery (recall succeeded)"
        case "revoked_before_open": "revoked before it was opened (recall succeeded)"
        case "revoked_after_open": "revoked after it was opened (recall too late)"
        default: outcome
        }
    }

    private func replacementRequest() throws -> RevokeRequest.Replacement? {
        let body: String?
        switch (replaceBody, replaceBodyFile) {
        case (.some, .some):
            throw RetractError.invalidInput("--replace-body and --replace-body-file conflict; give one of them")
        case (let text?, nil):
            body = text
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RetractError.invalidInput("--replace-body-file \(path) cannot be read")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw RetractError.invalidInput("--replace-body-file \(path) is not UTF-8 text")
            }
            body = text
        case (nil, nil):
            body = nil
        }
        guard let body else {
            if !replaceAttach.isEmpty || replaceSubject != nil {
                throw RetractError.invalidInput("--replace-attach and --replace-subject need --replace-body or --replace-body-file")
            }
            return nil
        }
        return RevokeRequest.Replacement(
            subject: replaceSubject, body: body, attachments: replaceAttach.map { URL(fileURLWithPath: $0) })
    }
}
