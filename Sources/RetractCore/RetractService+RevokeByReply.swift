import Foundation
import Mail
import Vault

/// A reply that reached a recall address (`recall+…@RETRACT_RECALL_DOMAIN`).
public struct RevokeReply: Sendable {
    /// The reply as received.
    public var file: URL
    /// The recall address it was sent to (the envelope recipient).
    public var recallAddress: String
    /// The reverse path; empty for the null sender.
    public var envelopeSender: String
    /// The account the SMTP session authenticated as, if any.
    public var authenticatedAs: String?
    /// Whether the client is in `RETRACT_SMTP_TRUSTED` (the organisation's MTA).
    public var trustedClient: Bool
    /// The client's address, for the per-client limit.
    public var client: String

    /// A reply.
    public init(
        file: URL, recallAddress: String, envelopeSender: String, client: String, authenticatedAs: String?,
        trustedClient: Bool
    ) {
        self.authenticatedAs = authenticatedAs
        self.trustedClient = trustedClient
        self.file = file
        self.recallAddress = recallAddress
        self.envelopeSender = envelopeSender
        self.client = client
    }
}

/// What a reply to a recall address did.
public enum RevokeReplyOutcome: Sendable {
    /// The message was revoked (for the recipients named, or all); `correctionSent` tells
    /// whether the reply's corrected version went out with the notices.
    case revoked(RecallReport, correctionSent: Bool)
    /// Nothing was done: automatic mail (an out-of-office, a bounce) or no command.
    case ignored(String)
    /// The address is unknown, or its message expired or its sender was removed (550).
    case unknownAddress
    /// Too many replies to this address, or failed ones from this client: try later (451).
    case limited(retryAfter: Int)
}

extension RetractService {
    /// Replies to one recall address allowed per hour.
    public static let revokeReplyLimitPerAddress = 10
    /// Replies to unknown recall addresses allowed per client in 15 minutes.
    public static let revokeReplyLimitPerClient = 20

    /// Acts on a reply to a gateway receipt's recall address: revokes the message (all its
    /// recipients, or those the first line names) with the reason the sender wrote, and with
    /// the corrected text and attachments when the reply has them and comes from the sender
    /// over a trusted path (otherwise the revocation happens without them, so a forwarded
    /// receipt cannot mail content under the sender's name). The sender gets the recall
    /// report, as for every revocation.
    ///
    /// Automatic mail (`Auto-Submitted` other than `no`, an empty envelope sender, a
    /// `Precedence: bulk/junk/list`) is never acted on and never answered, so an
    /// out-of-office reply or a bounce cannot revoke and cannot loop.
    public func handleRevokeReply(_ reply: RevokeReply) async throws(RetractError) -> RevokeReplyOutcome {
        let at = now()
        guard let hash = RecallAddress.hash(of: reply.recallAddress, domain: configuration.effectiveRecallDomain) else {
            return .unknownAddress
        }
        let limiter = rateLimiter
        let clientLimit = RateLimiter.Limit(
            scope: "recall-reply-client", subject: reply.client, limit: Self.revokeReplyLimitPerClient, window: 15 * 60)
        let found: (messageID: String, sender: SenderRecord)?
        do {
            if let wait = try await limiter.retryAfter(
                scope: clientLimit.scope, subject: reply.client, limit: clientLimit.limit, window: 15 * 60, now: at)
            {
                return .limited(retryAfter: wait)
            }
            found = try vault.capability(hash: hash, purpose: .reply, now: at)
            if found == nil {
                try await limiter.recordFailure(scope: clientLimit.scope, subject: reply.client, at: at)
                logger.notice("reply to an unknown recall address", metadata: ["client": "\(reply.client)"])
                return .unknownAddress
            }
        } catch {
            throw RetractError(.storage, "could not look up the recall address: \(error)")
        }
        guard let found else { return .unknownAddress }

        // The header block (bounded), then the bodies and any files in one streaming pass.
        let headers = try IncomingMailHeaders.read(file: reply.file)
        if let automatic = Self.automaticMail(headers, envelopeSender: reply.envelopeSender) {
            logger.info("reply to a recall address ignored", metadata: ["why": "\(automatic)"])
            return .ignored(automatic)
        }
        let directory = reply.file.deletingLastPathComponent()
        let extraction = AttachmentExtractor.extractWithBodies(
            from: reply.file, into: directory, limit: configuration.maxAttachments)
        defer { for part in extraction.parts { try? FileManager.default.removeItem(at: part.url) } }
        let fallback =
            extraction.text == nil && extraction.html == nil ? IncomingMailHeaders.fallbackBodies(file: reply.file) : nil
        let text =
            extraction.text ?? fallback?.text ?? (extraction.html ?? fallback?.html).map(HTMLSanitizer.plainText) ?? ""
        guard let command = RevokeReplyCommand.parse(text) else {
            logger.info("reply to a recall address ignored", metadata: ["why": "no command"])
            return .ignored("the first line is not REVOKE, 撤回 or Reason:")
        }
        let addressSubject = hash.map { String(format: "%02x", $0) }.joined()
        let attempt: RateLimiter.Attempt
        do {
            attempt = try limiter.begin(
                [
                    RateLimiter.Limit(
                        scope: "recall-reply-address", subject: addressSubject, limit: Self.revokeReplyLimitPerAddress,
                        window: 3600)
                ], now: at)
        } catch {
            throw RetractError(.storage, "could not count the reply: \(error)")
        }
        if case .refused(let retryAfter) = attempt { return .limited(retryAfter: retryAfter) }

        let from = headers.from?.address ?? ""
        // A correction only from the sender, over a path that vouches for From: a session
        // authenticated as the sender, or the organisation's own MTA.
        let sender = found.sender.address.lowercased()
        let trusted =
            from.lowercased() == sender
            && (reply.authenticatedAs?.lowercased() == sender || (reply.authenticatedAs == nil && reply.trustedClient))
        // Inline images (a signature's logo) are part of the text, not a corrected file.
        let attachments = extraction.parts.filter { $0.contentID == nil }
        // The revocation names each attachment after its file: link them under their names.
        let folder = directory.appendingPathComponent("reply-\(UUID().uuidString).d")
        defer { try? FileManager.default.removeItem(at: folder) }
        let named = attachments.isEmpty ? [] : Self.named(attachments, in: folder)
        let correctionWanted = command.correction != nil || !attachments.isEmpty
        let replacement: RevokeRequest.Replacement? =
            trusted && correctionWanted
            ? RevokeRequest.Replacement(subject: nil, body: command.correction ?? "", attachments: named) : nil
        var request = RevokeRequest(
            messageID: found.messageID, recipients: command.recipients,
            reason: command.reason.map { String($0.prefix(Self.maxReasonLength)) }, notify: .all,
            replacement: replacement)
        request.correctionWithheld = correctionWanted && replacement == nil
        do {
            let report = try await revokeQueuingNotices(request)
            logger.info(
                "revoked by reply",
                metadata: ["message": "\(found.messageID)", "correction": "\(replacement != nil)"])
            if correctionWanted && replacement == nil {
                logger.notice("a correction in a reply not from the sender over a trusted path was not sent")
            }
            return .revoked(report, correctionSent: replacement != nil)
        } catch let error as RetractError {
            try? limiter.withdraw(attempt)
            throw error
        } catch {
            try? limiter.withdraw(attempt)
            throw RetractError(.storage, "could not revoke: \(error)")
        }
    }

    /// Why a reply is automatic mail that must not be acted on, or nil for a person's reply.
    static func automaticMail(_ headers: IncomingMailHeaders, envelopeSender: String) -> String? {
        if envelopeSender.isEmpty { return "the null envelope sender (a bounce)" }
        if let auto = headers.other[.autoSubmitted]?.lowercased(), !auto.isEmpty, auto != "no" {
            return "Auto-Submitted: \(auto)"
        }
        if let precedence = headers.other[.precedence]?.lowercased(),
            ["bulk", "junk", "list", "auto_reply"].contains(precedence)
        {
            return "Precedence: \(precedence)"
        }
        if headers.other[.autoReply] != nil || headers.other[.autoRespond] != nil { return "an auto-reply header" }
        return nil
    }

    /// The extracted attachments linked under their own names into `folder` (mode 0700).
    static func named(_ parts: [AttachmentExtractor.Extracted], in folder: URL) -> [URL] {
        try? FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var used: Set<String> = []
        return parts.enumerated().compactMap { index, part in
            var name = AttachmentName.cleaned(part.name)
            if name.isEmpty || !used.insert(name).inserted { name = "\(index + 1)-\(name.isEmpty ? "attachment" : name)" }
            let target = folder.appendingPathComponent(name)
            guard (try? FileManager.default.linkItem(at: part.url, to: target)) != nil else { return nil }
            return target
        }
    }
}
