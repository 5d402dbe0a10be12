import Foundation
import Mail
import Seal
import Vault

extension RetractService {
    /// A new grant and the personal link that opens it.
    struct IssuedGrant {
        var record: GrantRecord
        var link: String
    }

    /// Creates one recipient's grant for a message: fresh token, link key and share, the
    /// share sealed under the active master key, the DEK wrapped under the grant's KEK.
    func issueGrant(
        recipient: String, kind: GrantRecord.Kind, messageID: MessageID, dataKey: DataKey,
        notificationMessageID: String
    ) -> IssuedGrant {
        let master = keys.active
        let secrets = GrantSecrets.generate()
        let tokenHash = secrets.token.hash
        let kek = GrantCrypto.deriveKEK(linkKey: secrets.linkKey, token: secrets.token, share: secrets.share)
        let record = GrantRecord(
            messageId: messageID.description, tokenHash: Data(tokenHash.bytes), recipient: recipient, kind: kind,
            shareKid: master.kid,
            sealedShare: Data(GrantCrypto.sealShare(secrets.share, master: master, tokenHash: tokenHash)),
            wrappedDek: Data(GrantCrypto.wrapDataKey(dataKey, kek: kek, messageID: messageID, tokenHash: tokenHash)),
            notificationMessageId: notificationMessageID)
        let link = Link(token: secrets.token, linkKey: secrets.linkKey).url(publicBase: configuration.publicURL)
        return IssuedGrant(record: record, link: link)
    }

    /// Renders a mail and seals its bytes under the master key as a queued outbox row.
    ///
    /// Rendering validates every header, so a mail that could inject headers never reaches
    /// the outbox. `mailFrom` is the envelope sender, the service address; a caller queuing
    /// many mails passes it parsed once, otherwise it is parsed from the configuration. A
    /// caller queuing many mails that differ only in their recipient passes what they share as `shared`.
    func queuedMail(
        _ mail: MailMessage, kind: OutboxMailRecord.Kind, messageID: String, grantID: Int64?, recipient: String,
        notBefore: Date, createdAt: Date, mailFrom: String? = nil, shared: MailMessage.SharedRendering? = nil
    ) throws(RetractError) -> OutboxMailRecord {
        let bytes = try wrapMailError { try mail.rendered(reusing: shared) }
        let master = keys.active
        let outboxID = Self.makeOutboxID()
        let envelopeFrom: String
        if let mailFrom {
            envelopeFrom = mailFrom
        } else {
            envelopeFrom = try mailAddress(configuration.serviceAddress, role: "service address (RETRACT_FROM)").address
        }
        return OutboxMailRecord(
            id: outboxID, messageId: messageID, grantId: grantID, kind: kind, mailFrom: envelopeFrom,
            recipient: recipient, rfcMessageId: mail.messageID,
            sealedData: Data(GrantCrypto.sealMetadata(bytes, master: master, context: Self.outboxContext(outboxID))),
            dataKid: master.kid, notBefore: notBefore, createdAt: createdAt)
    }

    /// The sender of a stored message as a mail address.
    func senderAddress(of message: MessageRecord) throws(RetractError) -> MailAddress {
        do {
            return try MailAddress(address: message.sender, displayName: message.senderName)
        } catch {
            throw RetractError(.invalidAddress, "the stored sender \(message.sender) is not a valid address")
        }
    }
}
