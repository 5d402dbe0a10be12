import Foundation
import Seal
import Vault

extension RetractService {
    /// Wrong keys allowed per link inside `failureWindow` before the link answers 429.
    public static let failedAttemptLimit = 10
    /// The window over which wrong keys are counted.
    public static let failureWindow: TimeInterval = 15 * 60
    /// The reading window: attachment downloads within this long after a counted view (an
    /// open, or a download that counted) belong to that view and count nothing, also when
    /// the view limit is reached, so `--max-views 1` still lets the reader save the files;
    /// a download outside it counts as a view of its own (docs/architecture.md, Opening).
    public static let attachmentWindow: TimeInterval = 30 * 60

    /// What the interstitial page may show for a token; never counts as an open.
    public func linkState(token: GrantToken) async -> LinkState {
        linkState(of: try? await vault.grant(tokenHash: token.hash.bytes))
    }

    /// The interstitial state of a grant already looked up (nil: no such grant).
    func linkState(of lookup: GrantLookup?) -> LinkState {
        guard let lookup else { return .notFound }
        let locale = lookup.message.locale
        if let revokedAt = lookup.grant.revokedAt {
            return .revoked(
                at: revokedAt, reason: lookup.grant.revokeReason, replaced: lookup.grant.replacementMessageId != nil,
                locale: locale)
        }
        if let expiresAt = lookup.message.expiresAt, expiresAt <= now() {
            return .expired(at: expiresAt, locale: locale)
        }
        if let maxViews = lookup.message.maxViews, lookup.grant.views >= maxViews {
            return .expired(at: nil, locale: locale)
        }
        return .openable(locale: locale)
    }

    /// Opens a message in memory with a recipient's link and counts one view.
    ///
    /// `code` is the mailed verification code, needed only for a message sent with
    /// `verify`; `client` is the reader's address, for the per-client limit on failed opens
    /// (nil when the caller has none, such as tests and tools: then only the per-link limit applies).
    func openUncounted(token: GrantToken, linkKey: LinkKey, code: String? = nil, client: String? = nil)
        async throws(OpenFailure) -> OpenedMessage
    {
        let (lookup, dataKey, part) = try await unlockReadingEnvelope(
            token: token, linkKey: linkKey, forAttachment: false, code: code, client: client)
        let messageID = try parsedMessageID(lookup.message.id)
        let envelope = try await openEnvelope(messageID: messageID, dataKey: dataKey, part: part)
        let openedAt = now()
        let counted: Bool
        do {
            counted = try await vault.recordOpen(
                grantID: lookup.grant.id ?? -1, tokenHash: token.hash.bytes, maxViews: lookup.message.maxViews,
                at: openedAt)
        } catch {
            logger.error("could not record an open", metadata: ["message": "\(lookup.message.id)"])
            throw .damaged
        }
        guard counted else {
            // Used up (or revoked: the only way without a limit) between the lookup and the
            // write; logged like the refusals before the key check.
            await logRefusal(lookup, token.hash, openedAt, lookup.message.maxViews == nil ? .revoked : .viewsExhausted)
            throw .viewsExhausted
        }
        return OpenedMessage(
            messageID: lookup.message.id, envelope: envelope, recipient: lookup.grant.recipient,
            locale: lookup.message.locale,
            inlineImages: await inlineImages(of: envelope, messageID: messageID, dataKey: dataKey))
    }

    /// The image parts the envelope's HTML body names by `cid:`, opened as part of this view
    /// (they count as nothing more), each within `InlineImage.maximumSize` and all within
    /// `InlineImage.maximumTotal`; a part that does not open is left out (the reader shows a placeholder).
    func inlineImages(of envelope: Envelope, messageID: MessageID, dataKey: DataKey) async -> [InlineImage] {
        guard let html = envelope.bodyHTML, html.range(of: "cid:", options: .caseInsensitive) != nil else { return [] }
        var images: [InlineImage] = []
        var total = 0
        for info in envelope.attachments {
            guard let contentID = info.contentID, InlineImage.mediaTypes.contains(info.mediaType.lowercased()),
                info.size <= Int64(InlineImage.maximumSize), total + Int(info.size) <= InlineImage.maximumTotal,
                html.contains(contentID) || html.contains(contentID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? contentID),
                let part = try? await vault.sealedPart(messageID: messageID.description, index: info.index),
                let bytes = try? await openPart(messageID: messageID, dataKey: dataKey, part: part),
                bytes.count <= InlineImage.maximumSize
            else { continue }
            total += bytes.count
            images.append(InlineImage(contentID: contentID, mediaType: info.mediaType.lowercased(), bytes: bytes))
        }
        return images
    }

    /// Starts decrypting attachment `index` (1-based) for a recipient, counting it like an
    /// open unless it falls in the reading window of the grant's last counted view.
    ///
    /// So the recall report says `revoked_after_open` once someone took an attachment, and
    /// `--max-views` limits downloads too: a reader who opens and then downloads three
    /// files uses one view; a download with no open in the last `attachmentWindow` uses one.
    public func downloadAttachment(
        token: GrantToken, linkKey: LinkKey, index: Int, code: String? = nil, client: String? = nil
    ) async throws(OpenFailure) -> AttachmentDownload {
        let (lookup, dataKey, envelopePart) = try await unlockReadingEnvelope(
            token: token, linkKey: linkKey, forAttachment: true, code: code, client: client)
        let messageID = try parsedMessageID(lookup.message.id)
        let envelope = try await openEnvelope(messageID: messageID, dataKey: dataKey, part: envelopePart)
        guard let info = envelope.attachments.first(where: { $0.index == index }),
            let part = try? await vault.sealedPart(messageID: lookup.message.id, index: index)
        else { throw .notFound }
        let opener: PartOpener
        do {
            opener = try PartOpener(
                dataKey: dataKey, messageID: messageID, partIndex: UInt32(index), header: [UInt8](part.header))
        } catch {
            throw .damaged
        }
        let at = now()
        let grantID = lookup.grant.id ?? -1
        let count: VaultDatabase.DownloadCount
        do {
            count = try await vault.recordDownload(
                grantID: grantID, tokenHash: token.hash.bytes, maxViews: lookup.message.maxViews, at: at,
                readingSince: at.addingTimeInterval(-Self.attachmentWindow))
        } catch {
            logger.error("could not record a download", metadata: ["message": "\(lookup.message.id)", "error": "\(error)"])
            throw .damaged
        }
        guard count != .refused else {
            await logRefusal(lookup, token.hash, at, .viewsExhausted)
            throw .viewsExhausted
        }
        return AttachmentDownload(
            info: info, vault: vault, grantID: grantID, part: part, opener: opener)
    }

    /// Checks the grant's state and unwraps its data key, logging every refusal.
    ///
    /// The order matters for the side channel: an unknown token runs the same unseal,
    /// derive and unwrap work as a wrong key (against the decoy), then fails the same way.
    /// The verification code of a `verify` message is checked only after the key opened,
    /// so only a holder of the whole link ever learns whether a code was right.
    func unlock(
        token: GrantToken, linkKey: LinkKey, forAttachment: Bool, code: String? = nil, client: String? = nil,
        checkingCode: Bool = true
    ) async throws(OpenFailure) -> (GrantLookup, DataKey) {
        let (lookup, dataKey, _) = try await unlockReadingEnvelope(
            token: token, linkKey: linkKey, forAttachment: forAttachment, code: code, client: client,
            checkingCode: checkingCode, envelope: false)
        return (lookup, dataKey)
    }

    /// `unlock`, which also hands back the envelope's part row (when `envelope`) read in the
    /// same transaction as the grant and the two failure counts (`VaultDatabase.openLookup`).
    func unlockReadingEnvelope(
        token: GrantToken, linkKey: LinkKey, forAttachment: Bool, code: String? = nil, client: String? = nil,
        checkingCode: Bool = true, envelope: Bool = true
    ) async throws(OpenFailure) -> (GrantLookup, DataKey, SealedPartRecord?) {
        let tokenHash = token.hash
        let at = now()
        let read = try? await vault.openLookup(
            tokenHash: tokenHash.bytes, failuresSince: at.addingTimeInterval(-Self.failureWindow), client: client,
            clientSince: at.addingTimeInterval(-Self.openClientWindow), envelope: envelope)
        let lookup = read?.grant
        // A limited link or client is refused from the counts already stored, and nothing is
        // written: otherwise every refused attempt would add a row and take the write lock,
        // and one client could grow the vault without bound.
        if (read?.failedAttempts ?? 0) >= Self.failedAttemptLimit {
            throw .tooManyAttempts(retryAfter: Int(Self.failureWindow))
        }
        // The per-client limit (scope `open-client` of the rate-limit events), on the count read above.
        if let client, !client.isEmpty, (read?.clientFailures ?? 0) >= Self.openClientFailureLimit {
            throw .tooManyAttempts(retryAfter: Int(Self.openClientWindow))
        }
        guard let lookup else {
            runDecoy(token: token, linkKey: linkKey)
            await recordOpenClientFailure(client, at: at)
            await log(nil, tokenHash, at, .invalidKey)
            throw .invalidKey
        }
        let grant = lookup.grant
        if let revokedAt = grant.revokedAt {
            await logRefusal(lookup, tokenHash, at, .revoked)
            throw .revoked(at: revokedAt, reason: grant.revokeReason, replaced: grant.replacementMessageId != nil)
        }
        if let expiresAt = lookup.message.expiresAt, expiresAt <= at {
            await logRefusal(lookup, tokenHash, at, .expired)
            throw .expired(at: expiresAt)
        }
        if let maxViews = lookup.message.maxViews, grant.views >= maxViews {
            let recentlyOpened = grant.lastOpenedAt.map { at.timeIntervalSince($0) < Self.attachmentWindow } ?? false
            if !(forAttachment && recentlyOpened) {
                await logRefusal(lookup, tokenHash, at, .viewsExhausted)
                throw .viewsExhausted
            }
        }
        guard let kid = grant.shareKid, let sealedShare = grant.sealedShare, let wrapped = grant.wrappedDek else {
            await log(lookup, tokenHash, at, .revoked)
            throw .revoked(at: grant.revokedAt ?? at, reason: grant.revokeReason, replaced: false)
        }
        let dataKey: DataKey
        do {
            let master = try keys.key(kid)
            let messageID = try parsedMessageID(lookup.message.id)
            let share = try GrantCrypto.openShare([UInt8](sealedShare), master: master, tokenHash: tokenHash)
            let kek = GrantCrypto.deriveKEK(linkKey: linkKey, token: token, share: share)
            dataKey = try GrantCrypto.unwrapDataKey(
                [UInt8](wrapped), kek: kek, messageID: messageID, tokenHash: tokenHash)
        } catch let error as VaultError {
            logger.error("a grant's master key is missing", metadata: ["error": "\(error)"])
            throw .damaged
        } catch {
            await recordOpenClientFailure(client, at: at)
            await log(lookup, tokenHash, at, .invalidKey)
            throw .invalidKey
        }
        if checkingCode && lookup.message.verify {
            try await checkVerification(lookup, token: token, code: code, client: client, at: at)
        }
        return (lookup, dataKey, read?.envelopePart)
    }

    /// `log` for a refusal that needs no key (revoked, expired, views used up): written at
    /// most once per token and result in `failureWindow`.
    ///
    /// Why: these are answered before the key is checked and count toward no limit, so
    /// anyone who knows a token could otherwise add a row (and take the write lock) per
    /// request for as long as they liked. One row per quarter hour still tells the sender
    /// that the link was tried; pruning removes it after the retention.
    func logRefusal(_ lookup: GrantLookup?, _ tokenHash: TokenHash, _ at: Date, _ result: AccessEventRecord.Result)
        async
    {
        let recorded = try? await vault.hasAccessEvent(
            tokenHash: tokenHash.bytes, result: result, since: at.addingTimeInterval(-Self.failureWindow))
        guard recorded != true else { return }
        await log(lookup, tokenHash, at, result)
    }

    /// The same work a wrong key costs, against a grant that does not exist.
    private func runDecoy(token: GrantToken, linkKey: LinkKey) {
        do {
            try decoy.open(token: token, linkKey: linkKey)
        } catch {
            // Always fails: that is the point.
        }
    }

    func log(_ lookup: GrantLookup?, _ tokenHash: TokenHash, _ at: Date, _ result: AccessEventRecord.Result)
        async
    {
        do {
            try await vault.recordAccess(grantID: lookup?.grant.id, tokenHash: tokenHash.bytes, at: at, result: result)
        } catch {
            logger.error("could not write the access log", metadata: ["result": "\(result.rawValue)"])
        }
    }

    private func parsedMessageID(_ text: String) throws(OpenFailure) -> MessageID {
        do {
            return try MessageID(parsing: text)
        } catch {
            throw .damaged
        }
    }

    /// Decrypts part 0 (the envelope) chunk by chunk; `part` is its row when already read.
    private func openEnvelope(messageID: MessageID, dataKey: DataKey, part: SealedPartRecord? = nil)
        async throws(OpenFailure) -> Envelope
    {
        let id = messageID.description
        let stored: SealedPartRecord?
        if let part, part.messageId == id, part.partIndex == 0 {
            stored = part
        } else {
            stored = try? await vault.sealedPart(messageID: id, index: 0)
        }
        guard let part = stored else { throw .damaged }
        do {
            return try Envelope.decode(try await openPart(messageID: messageID, dataKey: dataKey, part: part))
        } catch {
            throw .damaged
        }
    }

    /// Decrypts a whole sealed part in memory, chunk by chunk (the envelope, an inline image).
    private func openPart(messageID: MessageID, dataKey: DataKey, part: SealedPartRecord) async throws(OpenFailure)
        -> [UInt8]
    {
        do {
            let opener = try PartOpener(
                dataKey: dataKey, messageID: messageID, partIndex: UInt32(part.partIndex), header: [UInt8](part.header))
            let input = try vault.openSealedPart(part)
            let batch = BatchBuffer()
            var plaintext: [UInt8] = []
            plaintext.reserveCapacity(Int(clamping: part.plaintextSize))
            var first = 0
            while first < part.chunkCount {
                let range = first..<min(first + AttachmentDownload.batchChunks, part.chunkCount)
                try batch.fill(from: input, chunks: range)
                for index in range {
                    let (bytes, isFinal) = try batch.withChunk(index) { (chunk) throws(SealError) in
                        try opener.openChunk(chunk)
                    }
                    plaintext += bytes
                    if isFinal != (index == part.chunkCount - 1) { throw OpenFailure.damaged }
                }
                first = range.upperBound
            }
            try opener.finish()
            return plaintext
        } catch {
            throw .damaged
        }
    }
}
