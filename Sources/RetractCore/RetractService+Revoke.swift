import Foundation
import Mail
import Seal
import Sodium
import Synchronization
import Vault

extension RetractService {
    /// Longest reason accepted; it goes into every notice.
    public static let maxReasonLength = 2000

    /// Takes a message back from some or all recipients, in one transaction: destroys their
    /// key material, cancels notifications still held in the undo window, queues the
    /// withdrawal or correction notices (carrying a corrected version when there is one),
    /// deletes the sealed content once nobody can open it, and mails the sender the report;
    /// then delivers what is due, so the notices are out when it returns.
    ///
    /// Everything the request could get wrong is checked first; any failure afterwards
    /// (a template override that does not render, say) rolls the whole revocation back.
    public func revoke(_ request: RevokeRequest) async throws -> RecallReport {
        let report = try await revokeQueuingNotices(request)
        _ = await deliverDueMail()
        return report
    }

    /// `revoke(_:)` without the delivery pass: returns once the keys are destroyed, the WAL
    /// is checkpointed and the notices and the report are queued in the outbox.
    ///
    /// The notices are rendered and sealed before the write transaction, in parallel, from
    /// a snapshot of the grants; the transaction re-reads every grant's state and decides
    /// afresh (renders inside) only for a grant that changed in between, such as one opened
    /// meanwhile. So the write lock is held for set-based database work, and an open that
    /// starts after the commit is refused exactly as before. Callers deliver afterwards
    /// (`deliverDueMail()`, or `retract serve`'s worker).
    public func revokeQueuingNotices(_ request: RevokeRequest) async throws -> RecallReport {
        try await revokeQueuingNotices(request, afterRendering: {})
    }

    /// `revokeQueuingNotices(_:)` that runs `afterRendering` between rendering the notices
    /// and the write transaction: the window in which a grant can change under a revocation,
    /// which tests use to change one.
    func revokeQueuingNotices(
        _ request: RevokeRequest, afterRendering: () async throws -> Void
    ) async throws -> RecallReport {
        guard let message = try vault.message(id: request.messageID) else {
            throw RetractError.messageNotFound(request.messageID)
        }
        let replacement = try checkedRevokeRequest(request)
        let snapshot = try vault.revocationSnapshot(messageID: message.id)
        let targets = try targetGrants(message: message, grants: snapshot, recipients: request.recipients)
        let context = try noticeContext(for: message)
        let at = now()
        let issue = replacement.map {
            ReplacementIssue(
                id: MessageID.random(), dataKey: DataKey.generate(), subject: $0.subject,
                attachmentCount: $0.attachments.count, expiresAt: at.addingTimeInterval(configuration.defaultExpiry))
        }
        let settings = RevocationSettings(
            notify: request.notify, notifySender: request.notifySender, correctionWithheld: request.correctionWithheld,
            reason: request.reason, replacement: issue, context: context, at: at)

        // Outside the write lock: decide from the snapshot, render and seal in parallel.
        let decisions = targets.map { Self.decide($0, notify: request.notify, replacing: issue != nil) }
        let rows = decisions.map { Self.row($0, at: at, replacing: issue != nil) }
        let report = ReportRendering { [self] in
            request.notifySender ? try reportMail(rows: rows, settings: settings) : nil
        }
        let prepared = try await renderInParallel(decisions, settings: settings)
        let (staged, attachments) = try stageReplacementAttachments(replacement, issue: issue)
        try await afterRendering()

        let recall = try vault.revoke(messageID: message.id, adopting: staged) { tx in
            try commitRevocation(
                tx, prepared: prepared, report: report, replacement: replacement, attachments: attachments,
                settings: settings)
        }
        countRevocation(recall)
        logger.info(
            "message revoked",
            metadata: ["message": "\(message.id)", "recipients": "\(recall.recipients.filter { !$0.alreadyRevoked }.count)"])
        return recall
    }

    /// What every notice of one message needs.
    struct NoticeContext: Sendable {
        /// The revoked message's id.
        var messageID: String
        /// One Message-ID in the service's domain, whose host new ones copy.
        var messageIDTemplate: String
        var subject: String
        var sentAt: Date
        var sender: MailAddress
        var service: MailAddress
        var locale: MailLocale
        /// The Message-ID the report threads under: a gateway message's receipt; nil otherwise.
        var receiptMessageID: String?
    }

    /// A validated replacement.
    struct CheckedReplacement {
        var subject: String?
        var body: String
        var attachments: [SendPlan.Attachment]
    }

    /// The corrected message a revocation issues new grants for.
    struct ReplacementIssue: Sendable {
        var id: MessageID
        var dataKey: DataKey
        var subject: String?
        var attachmentCount: Int
        var expiresAt: Date
    }

    /// What stays the same for every grant of one revocation.
    struct RevocationSettings: Sendable {
        var notify: RevokeRequest.NoticePolicy
        var notifySender: Bool = true
        var correctionWithheld = false
        var reason: String?
        var replacement: ReplacementIssue?
        var context: NoticeContext
        var at: Date
    }

    /// What a revocation does to one grant, decided from its state; cheap, no rendering.
    struct GrantDecision: Sendable {
        /// The grant's state decided on; compared with its state inside the transaction.
        var state: RevocationTransaction.GrantState
        var alreadyRevoked: Bool
        /// Its notification is still held in the outbox and gets cancelled.
        var cancels: Bool
        /// `withdrawal`, `correction` or `none`.
        var notice: String
    }

    /// A decision with its mails rendered and sealed.
    struct PreparedGrant: Sendable {
        var decision: GrantDecision
        /// The withdrawal or correction notice to queue.
        var notice: OutboxMailRecord?
        /// The replacement's grant for this recipient (and its notification when no notice carries the link).
        var newGrant: NewGrant?
    }

    /// Checks what a revocation request asks besides its recipients (the notice policy, the
    /// reason, the replacement) before anything is read or rendered; the replacement, checked.
    func checkedRevokeRequest(_ request: RevokeRequest) throws(RetractError) -> CheckedReplacement? {
        if request.notify == .none, request.replacement != nil {
            throw RetractError.invalidInput(
                "--notify none conflicts with a replacement: the corrected version travels in the notice; use --notify all or opened")
        }
        if let reason = request.reason, reason.count > Self.maxReasonLength {
            throw RetractError.invalidInput("the reason is longer than \(Self.maxReasonLength) characters")
        }
        return try request.replacement.map { r throws(RetractError) in try checkedReplacement(r) }
    }

    /// A replacement checked like a new draft: a one-line subject of bounded length, at most
    /// `RETRACT_MAX_ATTACHMENTS` readable files.
    func checkedReplacement(_ replacement: RevokeRequest.Replacement) throws(RetractError) -> CheckedReplacement {
        if let subject = replacement.subject {
            if HeaderText.containsLineBreak(subject) {
                throw RetractError(
                    .headerInjection, "--replace-subject contains a line break; mail headers must be one line")
            }
            try Self.checkSubjectLength(subject, option: "--replace-subject")
        }
        try checkAttachmentCount(replacement.attachments.count, option: "--replace-attach")
        let attachments = try replacement.attachments.map { url throws(RetractError) in try Self.checkedAttachment(url) }
        return CheckedReplacement(subject: replacement.subject, body: replacement.body, attachments: attachments)
    }

    /// The grants named by `recipients` (all when none is named), in grant order.
    private func targetGrants(
        message: MessageRecord, grants: [RevocationTransaction.GrantState], recipients: [String]
    ) throws -> [RevocationTransaction.GrantState] {
        guard !recipients.isEmpty else { return grants }
        var ids: Set<Int64> = []
        for text in recipients {
            let address = (try? MailAddress(parsing: text))?.address ?? text
            guard let grant = grants.first(where: { $0.recipient.lowercased() == address.lowercased() }) else {
                throw RetractError.notARecipient(text, messageID: message.id, recipients: grants.map(\.recipient))
            }
            ids.insert(grant.grantID)
        }
        return grants.filter { ids.contains($0.grantID) }
    }

    func noticeContext(for message: MessageRecord) throws -> NoticeContext {
        let service = try mailAddress(configuration.serviceAddress, role: "service address (RETRACT_FROM)")
        // Revoking may never be blocked by what a message holds: a stored subject that cannot
        // be a header line (or cannot be unsealed) becomes a safe one in the notices, and a
        // sender address that no longer parses sends the report to the service address.
        let storedSubject = (try? subject(of: message)) ?? ""
        return NoticeContext(
            messageID: message.id, messageIDTemplate: MessageIDFactory.make(domain: service.domain),
            subject: HeaderText.oneLine(String(storedSubject.prefix(Self.maxSubjectLength)), fallback: "(no subject)"),
            sentAt: message.createdAt, sender: (try? senderAddress(of: message)) ?? service,
            service: service, locale: (try? MailLocale(parsing: message.locale)) ?? .en,
            receiptMessageID: message.origin == Self.gatewayOrigin
                ? Self.receiptMessageID(messageID: message.id, domain: service.domain) : nil)
    }

    /// Decides what revoking a grant in state `state` does.
    static func decide(
        _ state: RevocationTransaction.GrantState, notify: RevokeRequest.NoticePolicy, replacing: Bool
    ) -> GrantDecision {
        guard state.revokedAt == nil else {
            return GrantDecision(state: state, alreadyRevoked: true, cancels: false, notice: "none")
        }
        let cancels = state.notification == .queued || state.notification == .retrying
        let delivered = !cancels && state.notification == .sent
        let opened = state.firstOpenedAt != nil
        var notice = "none"
        if delivered {
            switch notify {
            case .all: notice = opened || replacing ? "correction" : "withdrawal"
            case .opened: notice = opened ? "correction" : "none"
            case .none: notice = "none"
            }
        }
        return GrantDecision(state: state, alreadyRevoked: false, cancels: cancels, notice: notice)
    }

    /// The report line of a decision.
    static func row(_ decision: GrantDecision, at: Date, replacing: Bool) -> RecallReport.Recipient {
        let grant = decision.state
        let opened = grant.firstOpenedAt != nil
        if decision.alreadyRevoked {
            return .init(
                address: grant.recipient, kind: grant.kind.rawValue, openedAt: grant.firstOpenedAt,
                outcome: outcome(cancelled: grant.notification == .cancelled, opened: opened), notice: "none",
                revokedAt: grant.revokedAt, alreadyRevoked: true, replacementSent: false)
        }
        return .init(
            address: grant.recipient, kind: grant.kind.rawValue, openedAt: grant.firstOpenedAt,
            outcome: outcome(cancelled: decision.cancels, opened: opened), notice: decision.notice, revokedAt: at,
            alreadyRevoked: false, replacementSent: replacing)
    }

    /// Renders and seals the mails of every decision, split over the cores; the results are
    /// in the order of `decisions`.
    private func renderInParallel(
        _ decisions: [GrantDecision], settings: RevocationSettings
    ) async throws -> [PreparedGrant] {
        let shared = try sharedNotices(for: decisions, settings: settings)
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunkSize = max(64, (decisions.count + cores * 4 - 1) / (cores * 4))
        let chunks = stride(from: 0, to: decisions.count, by: chunkSize).map {
            $0..<min($0 + chunkSize, decisions.count)
        }
        return try await withThrowingTaskGroup(of: (Int, [PreparedGrant]).self) { group in
            for (index, chunk) in chunks.enumerated() {
                let slice = Array(decisions[chunk])
                group.addTask { (index, try slice.map { try self.render($0, settings: settings, shared: shared) }) }
            }
            var pieces = [[PreparedGrant]](repeating: [], count: chunks.count)
            for try await (index, prepared) in group { pieces[index] = prepared }
            return pieces.flatMap { $0 }
        }
    }

    /// The recall report, rendered on a thread of its own while the notices are rendered
    /// and the transaction writes, and collected at the end of the transaction.
    ///
    /// One mail with a line per recipient is a long single-threaded Mustache render (most
    /// of a second for ten thousand lines); started first and awaited last, it overlaps
    /// everything else instead of adding to it.
    final class ReportRendering: Sendable {
        private let result = Mutex<Result<OutboxMailRecord?, any Error>?>(nil)
        private let done = DispatchSemaphore(value: 0)

        init(render: @escaping @Sendable () throws -> OutboxMailRecord?) {
            DispatchQueue.global().async {
                let outcome = Result { try render() }
                self.result.withLock { $0 = outcome }
                self.done.signal()
            }
        }

        /// Waits for the report; rethrows what rendering threw.
        func mail() throws -> OutboxMailRecord? {
            done.wait()
            done.signal()
            return try result.withLock { $0! }.get()
        }
    }

    /// A Message-ID in the form `MessageIDFactory.make(domain:)` gives, `<32 hex digits@host>`,
    /// with the host of `template` (one such id), so the host is checked once per revocation
    /// rather than once per notice.
    static func fastMessageID(like template: String) -> String {
        let host = template.split(separator: "@", maxSplits: 1).last.map { $0.dropLast() } ?? "localhost"
        return "<" + Hex.encode(Random.bytes(16)) + "@" + host + ">"
    }

    /// A notice rendered once for every recipient whose notice would come out the same.
    struct SharedNotice: Sendable {
        var mail: MailMessage
        var shared: MailMessage.SharedRendering
    }

    /// What tells apart the notices a template may render differently, other than the
    /// recipient's own address and the Message-IDs.
    struct NoticeKey: Hashable, Sendable {
        var kind: String
        var openedAt: Date?
    }

    /// Renders each kind of notice once when the templates do not depend on who receives it.
    ///
    /// Rendering Mustache templates is most of the cost of ten thousand notices, and with
    /// the shipped templates a withdrawal notice reads the same for every recipient who
    /// opened at the same time (never): only the `To`, `Message-ID`, `In-Reply-To` and
    /// `References` headers differ. Whether that holds is checked, not assumed: each kind is
    /// rendered for a real recipient and for a made-up one (another address, other
    /// Message-IDs); only when subject, text and HTML come out identical is the result
    /// shared, so an operator's template that greets by address is rendered per recipient.
    /// A replacement puts a personal link in every correction, so nothing is shared then.
    private func sharedNotices(
        for decisions: [GrantDecision], settings: RevocationSettings
    ) throws -> [NoticeKey: SharedNotice] {
        guard settings.replacement == nil else { return [:] }
        var firsts: [NoticeKey: GrantDecision] = [:]
        for decision in decisions where !decision.alreadyRevoked && decision.notice != "none" {
            let key = NoticeKey(kind: decision.notice, openedAt: decision.state.firstOpenedAt)
            if firsts[key] == nil { firsts[key] = decision }
        }
        var shared: [NoticeKey: SharedNotice] = [:]
        for (key, decision) in firsts {
            let domain = settings.context.service.domain
            let real = try noticeMessage(
                key.kind, state: decision.state, recipient: try mailAddress(decision.state.recipient, role: "recipient"),
                settings: settings, replacementLink: nil, messageID: MessageIDFactory.make(domain: domain))
            var stranger = decision.state
            stranger.recipient = "Someone.Else-42@probe.retract.invalid"
            stranger.notificationMessageID = MessageIDFactory.make(domain: "probe.retract.invalid")
            let probe = try noticeMessage(
                key.kind, state: stranger, recipient: try mailAddress(stranger.recipient, role: "recipient"),
                settings: settings, replacementLink: nil, messageID: MessageIDFactory.make(domain: domain))
            guard real.subject == probe.subject, real.textBody == probe.textBody, real.htmlBody == probe.htmlBody
            else { continue }
            shared[key] = SharedNotice(mail: real, shared: real.sharedRendering())
        }
        return shared
    }

    /// Renders and seals the notice of one decision, and issues its replacement grant.
    private func render(
        _ decision: GrantDecision, settings: RevocationSettings, shared: [NoticeKey: SharedNotice] = [:]
    ) throws -> PreparedGrant {
        guard !decision.alreadyRevoked else { return PreparedGrant(decision: decision, notice: nil, newGrant: nil) }
        let grant = decision.state
        let context = settings.context
        let mailDomain = context.service.domain
        let recipient = try mailAddress(grant.recipient, role: "recipient")
        guard let issue = settings.replacement else {
            guard decision.notice != "none" else { return PreparedGrant(decision: decision, notice: nil, newGrant: nil) }
            let messageID = Self.fastMessageID(like: settings.context.messageIDTemplate)
            if let common = shared[NoticeKey(kind: decision.notice, openedAt: grant.firstOpenedAt)] {
                var mail = common.mail
                mail.to = [recipient]
                mail.messageID = messageID
                mail.inReplyTo = grant.notificationMessageID
                mail.references = [grant.notificationMessageID]
                let notice = try noticeRecord(mail, kind: decision.notice, state: grant, settings: settings, shared: common.shared)
                return PreparedGrant(decision: decision, notice: notice, newGrant: nil)
            }
            let mail = try noticeMessage(
                decision.notice, state: grant, recipient: recipient, settings: settings, replacementLink: nil,
                messageID: messageID)
            let notice = try noticeRecord(mail, kind: decision.notice, state: grant, settings: settings, shared: nil)
            return PreparedGrant(decision: decision, notice: notice, newGrant: nil)
        }
        let carrier = MessageIDFactory.make(domain: mailDomain)
        let issued = issueGrant(
            recipient: grant.recipient, kind: grant.kind, messageID: issue.id, dataKey: issue.dataKey,
            notificationMessageID: carrier)
        guard decision.notice != "none" else {
            // No notice carries the new link: the replacement goes out as a notification.
            let mail = try wrapMailError {
                try templates.notification(
                    NotificationDetails(
                        serviceAddress: context.service, sender: context.sender, recipient: recipient,
                        subject: issue.subject ?? context.subject, link: issued.link, sentAt: settings.at,
                        expiresAt: issue.expiresAt, attachmentCount: issue.attachmentCount, locale: context.locale,
                        messageID: carrier))
            }
            let notification = try queuedMail(
                mail, kind: .notification, messageID: issue.id.description, grantID: nil, recipient: grant.recipient,
                notBefore: settings.at, createdAt: settings.at, mailFrom: context.service.address)
            return PreparedGrant(
                decision: decision, notice: nil, newGrant: NewGrant(grant: issued.record, notification: notification))
        }
        let mail = try noticeMessage(
            decision.notice, state: grant, recipient: recipient, settings: settings, replacementLink: issued.link,
            messageID: carrier)
        let notice = try noticeRecord(mail, kind: decision.notice, state: grant, settings: settings, shared: nil)
        return PreparedGrant(
            decision: decision, notice: notice, newGrant: NewGrant(grant: issued.record, notification: nil))
    }

    /// The recall report to the sender for `rows`, nil when every row was already revoked.
    private func reportMail(rows: [RecallReport.Recipient], settings: RevocationSettings) throws -> OutboxMailRecord? {
        let fresh = rows.filter { !$0.alreadyRevoked }
        guard !fresh.isEmpty else { return nil }
        let context = settings.context
        let report = try wrapMailError {
            try templates.recallReport(
                RecallReportDetails(
                    serviceAddress: context.service, sender: context.sender, originalSubject: context.subject,
                    originalSentAt: context.sentAt, reason: settings.reason,
                    rows: fresh.map {
                        RecallReportRow(recipient: $0.address, outcome: $0.outcome, openedAt: $0.openedAt, notice: $0.notice)
                    },
                    locale: context.locale, messageID: MessageIDFactory.make(domain: context.service.domain),
                    inReplyTo: context.receiptMessageID, correctionWithheld: settings.correctionWithheld))
        }
        return try queuedMail(
            report, kind: .report, messageID: context.messageID, grantID: nil, recipient: context.sender.address,
            notBefore: settings.at, createdAt: settings.at, mailFrom: context.service.address)
    }

    /// The body of the revocation transaction: re-reads every grant's state, keeps what was
    /// prepared for grants that did not change and decides the others afresh, then writes
    /// with a handful of set-based statements.
    private func commitRevocation(
        _ tx: RevocationTransaction, prepared: [PreparedGrant], report rendering: ReportRendering,
        replacement: CheckedReplacement?, attachments: [AttachmentInfo], settings: RevocationSettings
    ) throws -> RecallReport {
        var states: [Int64: RevocationTransaction.GrantState] = [:]
        for state in try tx.grantStates() { states[state.grantID] = state }
        var grants = prepared
        var changed = false
        for index in grants.indices {
            let decided = grants[index].decision
            // Grants are never deleted while their message exists, so every one is found.
            guard let now = states[decided.state.grantID], now != decided.state else { continue }
            // Opened, revoked, delivered or cancelled since the snapshot: decide again.
            changed = true
            let decision = Self.decide(now, notify: settings.notify, replacing: settings.replacement != nil)
            grants[index] = try render(decision, settings: settings)
        }
        let rows = grants.map { Self.row($0.decision, at: settings.at, replacing: settings.replacement != nil) }

        let fresh = grants.filter { !$0.decision.alreadyRevoked }
        let newGrants = fresh.compactMap(\.newGrant)
        if let replacement, let issue = settings.replacement, !newGrants.isEmpty {
            try storeReplacement(
                replacement, id: issue.id, dataKey: issue.dataKey, grants: newGrants, attachments: attachments,
                original: tx.message, context: settings.context, at: settings.at, expiresAt: issue.expiresAt, in: tx)
        }
        try tx.cancelQueuedNotifications(grantIDs: fresh.filter(\.decision.cancels).map(\.decision.state.grantID))
        try tx.queue(fresh.compactMap(\.notice))
        try tx.revokeGrants(
            fresh.map(\.decision.state.grantID), at: settings.at, reason: settings.reason,
            replacementMessageID: newGrants.isEmpty ? nil : settings.replacement?.id.description)
        let destroyed = try tx.deleteSealedPartsIfUnreachable()
        // The report rendered beside everything else, unless a grant changed meanwhile.
        let prerendered = try rendering.mail()
        let rerendered = changed && settings.notifySender ? try reportMail(rows: rows, settings: settings) : nil
        if let report = changed ? rerendered : prerendered { try tx.queue(report) }
        return RecallReport(
            id: tx.message.id, revokedAt: settings.at, reason: settings.reason,
            replacementId: newGrants.isEmpty ? nil : settings.replacement?.id.description, recipients: rows,
            contentDestroyed: destroyed)
    }

    static func outcome(cancelled: Bool, opened: Bool) -> String {
        cancelled ? "cancelled_before_delivery" : (opened ? "revoked_after_open" : "revoked_before_open")
    }

    /// The withdrawal or correction notice to one recipient, from the templates.
    private func noticeMessage(
        _ kind: String, state: RevocationTransaction.GrantState, recipient: MailAddress, settings: RevocationSettings,
        replacementLink: String?, messageID: String
    ) throws -> MailMessage {
        let context = settings.context
        let details = NoticeDetails(
            serviceAddress: context.service, sender: context.sender, recipient: recipient,
            originalSubject: context.subject, originalSentAt: context.sentAt, openedAt: state.firstOpenedAt,
            reason: settings.reason, replacementLink: replacementLink, originalMessageID: state.notificationMessageID,
            locale: context.locale, messageID: messageID)
        return try wrapMailError {
            kind == "correction" ? try templates.correctionNotice(details) : try templates.withdrawalNotice(details)
        }
    }

    /// A notice rendered to bytes and sealed as an outbox row of the revoked message.
    private func noticeRecord(
        _ mail: MailMessage, kind: String, state: RevocationTransaction.GrantState, settings: RevocationSettings,
        shared: MailMessage.SharedRendering?
    ) throws -> OutboxMailRecord {
        try queuedMail(
            mail, kind: kind == "correction" ? .correction : .withdrawal, messageID: settings.context.messageID,
            grantID: state.grantID, recipient: state.recipient, notBefore: settings.at, createdAt: settings.at,
            mailFrom: settings.context.service.address, shared: shared)
    }

    /// Seals a replacement's attachments into staging files before the revocation's write
    /// transaction, so up to 100 MiB of sealing does not hold the write lock; the
    /// transaction stores them with the replacement, or they are removed.
    private func stageReplacementAttachments(
        _ replacement: CheckedReplacement?, issue: ReplacementIssue?
    ) throws -> (StagedParts?, [AttachmentInfo]) {
        guard let replacement, let issue, !replacement.attachments.isEmpty else { return (nil, []) }
        var infos: [AttachmentInfo] = []
        let staged = try vault.stageParts(messageID: issue.id.description) { writer in
            for (offset, attachment) in replacement.attachments.enumerated() {
                let size = try AttachmentSealer.seal(
                    file: attachment.url, dataKey: issue.dataKey, messageID: issue.id, partIndex: offset + 1,
                    into: writer)
                infos.append(
                    AttachmentInfo(index: offset + 1, name: attachment.name, size: size, mediaType: attachment.mediaType))
            }
        }
        return (staged, infos)
    }

    /// Stores the corrected message with its staged `attachments`; seals only its envelope
    /// here, which names the recipients this transaction decided on.
    private func storeReplacement(
        _ replacement: CheckedReplacement, id: MessageID, dataKey: DataKey, grants: [NewGrant],
        attachments infos: [AttachmentInfo], original: MessageRecord, context: NoticeContext, at: Date,
        expiresAt: Date, in tx: RevocationTransaction
    ) throws {
        let master = keys.active
        let subject = replacement.subject ?? context.subject
        let record = MessageRecord(
            id: id.description, sender: original.sender, senderName: original.senderName,
            sealedSubject: Data(
                GrantCrypto.sealMetadata(Array(subject.utf8), master: master, context: Self.subjectContext(id.description))),
            subjectKid: master.kid, locale: original.locale, createdAt: at, expiresAt: expiresAt,
            maxViews: original.maxViews, deliverAfter: at, partCount: replacement.attachments.count + 1,
            supersedes: original.id, verify: original.verify)
        let visible = { (kind: GrantRecord.Kind) in grants.filter { $0.grant.kind == kind }.map(\.grant.recipient) }
        try tx.storeReplacement(record, grants: grants) { writer in
            let envelope = Envelope(
                subject: subject, from: original.sender, fromName: original.senderName, sentAt: at,
                bodyText: replacement.body, to: visible(.to), cc: visible(.cc), attachments: infos)
            try AttachmentSealer.seal(bytes: try envelope.encoded(), dataKey: dataKey, messageID: id, partIndex: 0, into: writer)
        }
    }
}
