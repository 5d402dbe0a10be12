import Foundation
import Mail
import Seal
import Sodium
import Vault

extension RetractService {
    /// Seals a draft into the vault, creates one grant per recipient and queues each
    /// recipient's notification; delivers at once when there is no undo window.
    ///
    /// Everything that can be wrong with the input (addresses, header characters, files,
    /// strict findings) is checked before the vault is touched; the parts are sealed outside
    /// any transaction and the rows committed in one short one (`storeSealedMessage`): a
    /// failed send leaves nothing stored and nothing queued.
    public func send(_ draft: Draft) async throws -> SendReceipt {
        try await send(draft, whileSealing: {})
    }

    /// `send(_:)` that runs `whileSealing` after the attachments are sealed and before the
    /// envelope is: a moment inside the sealing, which tests use to write meanwhile.
    func send(_ draft: Draft, whileSealing: () -> Void) async throws -> SendReceipt {
        let plan = try prepare(draft)
        let createdAt = now()
        let messageID = MessageID.random()
        let dataKey = DataKey.generate()
        let master = keys.active
        let deliverAfter = createdAt.addingTimeInterval(plan.delay)
        let expiresAt = createdAt.addingTimeInterval(plan.expiresIn)
        let serviceAddress = try mailAddress(configuration.serviceAddress, role: "service address (RETRACT_FROM)")
        let mailDomain = serviceAddress.domain

        var newGrants: [NewGrant] = []
        var receipts: [SendReceipt.Recipient] = []
        for recipient in plan.recipients {
            let rfcMessageID = MessageIDFactory.make(domain: mailDomain)
            let issued = issueGrant(
                recipient: recipient.address.address, kind: recipient.kind, messageID: messageID, dataKey: dataKey,
                notificationMessageID: rfcMessageID)
            let mail = try wrapMailError {
                try templates.notification(
                    NotificationDetails(
                        serviceAddress: serviceAddress, sender: plan.sender, recipient: recipient.address,
                        subject: draft.subject, link: issued.link, sentAt: createdAt, expiresAt: expiresAt,
                        attachmentCount: plan.attachments.count, locale: plan.locale, messageID: rfcMessageID))
            }
            newGrants.append(
                NewGrant(
                    grant: issued.record,
                    notification: try queuedMail(
                        mail, kind: .notification, messageID: messageID.description, grantID: nil,
                        recipient: recipient.address.address, notBefore: deliverAfter, createdAt: createdAt)))
            receipts.append(
                .init(address: recipient.address.address, kind: recipient.kind.rawValue, delivery: "queued", link: issued.link))
        }

        let message = MessageRecord(
            id: messageID.description, sender: plan.sender.address, senderName: plan.sender.displayName,
            sealedSubject: Data(
                GrantCrypto.sealMetadata(
                    Array(draft.subject.utf8), master: master, context: Self.subjectContext(messageID.description))),
            subjectKid: master.kid, locale: plan.locale.rawValue, createdAt: createdAt, expiresAt: expiresAt,
            maxViews: draft.maxViews, deliverAfter: deliverAfter, partCount: plan.attachments.count + 1,
            verify: draft.verify)

        do {
            try vault.storeSealedMessage(message, grants: newGrants) { writer in
                var infos: [AttachmentInfo] = []
                for (offset, attachment) in plan.attachments.enumerated() {
                    let index = offset + 1
                    let size = try AttachmentSealer.seal(
                        file: attachment.url, staging: draft.stagedUploads, dataKey: dataKey, messageID: messageID, partIndex: index, into: writer)
                    infos.append(
                        AttachmentInfo(index: index, name: attachment.name, size: size, mediaType: attachment.mediaType))
                }
                whileSealing()
                let envelope = Envelope(
                    subject: draft.subject, from: plan.sender.address, fromName: plan.sender.displayName,
                    sentAt: createdAt, bodyText: draft.body, to: plan.visibleTo, cc: plan.visibleCc,
                    attachments: infos)
                try AttachmentSealer.seal(
                    bytes: try envelope.encoded(), dataKey: dataKey, messageID: messageID, partIndex: 0, into: writer)
            }
        } catch let error as RetractError {
            throw error
        } catch {
            throw RetractError(.storage, "could not store the message, nothing was sent: \(error)")
        }
        logger.info("message sealed", metadata: ["message": "\(messageID)", "recipients": "\(receipts.count)"])
        countSend(recipients: receipts.count)

        if plan.delay == 0 {
            _ = await deliverDueMail()
            let states = Dictionary(
                (try? vault.outboxMail(messageID: messageID.description))?.map { ($0.recipient, $0.state.rawValue) }
                    ?? [], uniquingKeysWith: { first, _ in first })
            for index in receipts.indices {
                receipts[index].delivery = states[receipts[index].address] ?? "queued"
            }
        }
        return SendReceipt(
            messageID: messageID.description, recipients: receipts, findings: plan.findings,
            deliverAfter: deliverAfter, expiresAt: expiresAt)
    }

    /// The AEAD context that binds a sealed subject to its message.
    static func subjectContext(_ messageID: String) -> [UInt8] { Array("subject:\(messageID)".utf8) }

    /// The AEAD context that binds sealed outbox bytes to their row.
    static func outboxContext(_ outboxID: String) -> [UInt8] { Array("outbox:\(outboxID)".utf8) }

    /// 24 random hex digits: the outbox row id and `.eml` file name.
    static func makeOutboxID() -> String { Hex.encode(Random.bytes(12)) }

    func mailAddress(_ text: String, role: String) throws(RetractError) -> MailAddress {
        do {
            return try MailAddress(parsing: text)
        } catch {
            throw RetractError(.invalidAddress, "\(role) \(text.debugDescription) is not a valid address: \(error)")
        }
    }

    func wrapMailError<T>(_ body: () throws -> T) throws(RetractError) -> T {
        do {
            return try body()
        } catch let error as MailError {
            throw RetractError(.mail, error.description)
        } catch {
            throw RetractError(.mail, "\(error)")
        }
    }
}
