import Foundation
import Mail
import Vault

extension RetractService {
    /// Acts on a native recall request (Outlook's "Recall This Message") that the gateway
    /// received from a trusted path: finds the sealed message it means and revokes it for
    /// real, for the recall's recipients.
    ///
    /// A match is a gateway message of the same sender, sent before the recall and within
    /// `configuration.recallWindow`, whose subject equals `recall.originalSubject`, and with
    /// at least one grant whose recipient the recall is addressed to.
    /// - One match: those grants are revoked (withdrawal notices, threaded as for every
    ///   revocation, instead of the bare recall mail; the sender gets the recall report); the
    ///   recall mail goes on unchanged to its other recipients (colleagues inside, where
    ///   Exchange's own recall works).
    /// - Several: nothing is revoked; the sender gets a mail listing the candidates, each with
    ///   a manage link of its own; the recall mail goes on unchanged to all its recipients.
    /// - None (a message sent before Retract was in the path, say): the recall mail goes on
    ///   unchanged to all its recipients; it holds nothing worth sealing.
    ///
    /// A crash between the revocation and the commit of the pass-through copy is repaired by
    /// the client's retry: a second revocation of the same grants sends no second notice.
    public func handleRecall(
        _ recall: IncomingMail, headers: IncomingMailHeaders, originalSubject: String
    ) async throws(RetractError)
        -> RecallHandling
    {
        let at = now()
        let wanted = Set(recall.recipients.map { $0.address.lowercased() })
        var matches: [(message: MessageRecord, common: [String])] = []
        do {
            for message in try vault.gatewayMessages(sender: recall.sender, since: at.addingTimeInterval(-configuration.recallWindow), before: at) {
                guard (try? subject(of: message)) == originalSubject else { continue }
                let common = try vault.grants(messageID: message.id).map(\.recipient).filter {
                    wanted.contains($0.lowercased())
                }
                if !common.isEmpty { matches.append((message, common)) }
            }
        } catch let error as RetractError {
            throw error
        } catch {
            throw RetractError(.storage, "could not look up the message a recall means: \(error)")
        }
        guard !matches.isEmpty else {
            logger.notice("native recall matched no sealed message; passed on unchanged")
            return .unmatched(passedOn: try await passRecallOn(recall, headers: headers, except: []))
        }

        if matches.count == 1, let match = matches.first {
            let report: RecallReport
            do {
                report = try await revokeQueuingNotices(
                    RevokeRequest(messageID: match.message.id, recipients: match.common, notify: .all))
            } catch let error as RetractError {
                throw error
            } catch {
                throw RetractError(.storage, "could not revoke the recalled message: \(error)")
            }
            let revoked = Set(match.common.map { $0.lowercased() })
            let passed = try await passRecallOn(recall, headers: headers, except: revoked)
            logger.info(
                "native recall revoked a message",
                metadata: ["message": "\(match.message.id)", "recipients": "\(match.common.count)"])
            return .revoked(messageID: match.message.id, report: report, passedOn: passed)
        }

        try queueRecallCandidates(matches.map(\.message), sender: recall.sender, subject: originalSubject, at: at)
        let passed = try await passRecallOn(recall, headers: headers, except: [])
        logger.notice("native recall matched several messages; none revoked", metadata: ["candidates": "\(matches.count)"])
        return .ambiguous(candidates: matches.map(\.message.id), passedOn: passed)
    }

    /// Commits the recall mail, unchanged, as a pass-through copy to each recipient not in
    /// `except`; the id of the message it is filed under, nil when nobody is left.
    private func passRecallOn(
        _ recall: IncomingMail, headers: IncomingMailHeaders, except: Set<String>
    ) async throws(RetractError) -> String? {
        var rest = recall
        rest.recipients = recall.recipients.filter { !except.contains($0.address.lowercased()) }.map {
            IncomingMail.Recipient(address: $0.address, sealed: false)
        }
        guard !rest.recipients.isEmpty else { return nil }
        return try await acceptIncomingMail(rest, headers: headers).messageID
    }

    /// Queues the mail that lists the candidates of an ambiguous recall, each with a fresh
    /// manage link (stored hashed in the same transaction as the mail).
    private func queueRecallCandidates(
        _ candidates: [MessageRecord], sender: String, subject: String, at: Date
    ) throws(RetractError) {
        let serviceAddress = try mailAddress(configuration.serviceAddress, role: "service address (RETRACT_FROM)")
        let senderAddress = try mailAddress(sender, role: "sender")
        var rows: [RecallCandidatesDetails.Candidate] = []
        var hashes: [(hash: Data, messageID: String)] = []
        for message in candidates {
            let link = ManageLink.make(publicBase: configuration.publicURL)
            hashes.append((link.hash, message.id))
            let recipients = ((try? vault.grants(messageID: message.id)) ?? []).map(\.recipient)
            rows.append(
                RecallCandidatesDetails.Candidate(
                    sentAt: message.createdAt, recipients: recipients, manageLink: link.url, vaultMessageID: message.id))
        }
        let mail = try wrapMailError {
            try templates.recallCandidates(
                RecallCandidatesDetails(
                    serviceAddress: serviceAddress, sender: senderAddress, subject: subject, candidates: rows,
                    locale: MailLocale(rawValue: candidates.first?.locale ?? "en") ?? .en))
        }
        let row = try queuedMail(
            mail, kind: .report, messageID: candidates[0].id, grantID: nil, recipient: senderAddress.address,
            notBefore: at, createdAt: at, mailFrom: serviceAddress.address)
        do {
            try vault.queueMail([row], manageLinks: hashes, at: at)
        } catch {
            throw RetractError(.storage, "could not queue the list of recall candidates: \(error)")
        }
    }
}

/// What `handleRecall` did with a recall request.
public enum RecallHandling: Sendable {
    /// One message matched and its grants for the recall's recipients were revoked.
    case revoked(messageID: String, report: RecallReport, passedOn: String?)
    /// Several matched; nothing was revoked and the sender was sent the list.
    case ambiguous(candidates: [String], passedOn: String?)
    /// None matched; the recall mail went on unchanged.
    case unmatched(passedOn: String?)
}
