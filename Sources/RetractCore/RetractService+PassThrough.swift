import Foundation
import Mail
import Seal
import Vault

extension RetractService {
    /// The outbox rows of a gateway message's pass-through copy, one per internal recipient,
    /// from the original envelope sender: each seals under the master key only a reference
    /// (`PassThroughCopy.reference()`: the message's data key and the trace line), bound to
    /// the row, while the copy itself is stored once, as part 1 of the message.
    func passThroughRows(
        _ copy: PassThroughCopy, recipients: [String], messageID: MessageID, envelopeSender: String,
        rfcMessageID: String, createdAt: Date
    ) -> [OutboxMailRecord] {
        let master = keys.active
        let reference = copy.reference()
        return recipients.map { recipient in
            let outboxID = Self.makeOutboxID()
            return OutboxMailRecord(
                id: outboxID, messageId: messageID.description, grantId: nil, kind: .passthrough,
                mailFrom: envelopeSender, recipient: recipient, rfcMessageId: rfcMessageID,
                sealedData: Data(GrantCrypto.sealMetadata(reference, master: master, context: Self.outboxContext(outboxID))),
                dataKid: master.kid, notBefore: createdAt, createdAt: createdAt)
        }
    }

    /// Seals the bytes that leave (`file`, `size` bytes) as part 1 of a message that has no
    /// sealed recipient (where part 1 is not already the sealed original), chunk by chunk like
    /// an attachment (`AttachmentSealer`), under the message's data key.
    static func sealPassThroughCopy(
        _ copy: PassThroughCopy, file: URL, size: Int64, messageID: MessageID, into writer: SealedPartWriter
    ) throws {
        let sealedSize = try AttachmentSealer.seal(
            file: file, dataKey: try copy.dataKey(), messageID: messageID,
            partIndex: VaultDatabase.passThroughPartIndex, into: writer)
        guard sealedSize == size else {
            throw RetractError(.attachmentUnreadable, "the received message changed while it was sealed")
        }
    }

    /// What the outbox worker hands the transport for a claimed mail whose opened row is
    /// `opened`: the bytes themselves, or for a pass-through reference the copy streamed
    /// from its part.
    func outboundContent(of mail: OutboxMailRecord, opened: [UInt8]) throws -> MailContent {
        guard mail.kind == .passthrough, let copy = try PassThroughCopy.parse(opened) else { return .bytes(opened) }
        let messageID = try MessageID(parsing: mail.messageId)
        guard
            let part = try vault.sealedPartRecord(messageID: mail.messageId, index: VaultDatabase.passThroughPartIndex)
        else {
            throw RetractError(.storage, "the pass-through copy of message \(mail.messageId) is missing from the vault")
        }
        return .streamed(
            PassThroughCopy.Source(
                vault: vault, messageID: messageID, part: part, dataKey: try copy.dataKey(),
                traceField: copy.traceField))
    }

    /// Removes the pass-through copies of `mails`' messages that none of their rows may
    /// still deliver; logged, never thrown (a copy left behind goes on the next sweep).
    func removeFinishedPassThroughCopies(of mails: [OutboxMailRecord]) {
        let messageIDs = Array(Set(mails.filter { $0.kind == .passthrough }.map(\.messageId)))
        guard !messageIDs.isEmpty else { return }
        do {
            try vault.removeFinishedPassThroughCopies(messageIDs: messageIDs)
        } catch {
            logger.warning("could not remove delivered pass-through copies", metadata: ["error": "\(error)"])
        }
    }
}
