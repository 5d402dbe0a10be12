import Foundation
import Seal
import Sodium

extension RetractVectors {
    /// Every scenario, checked.
    static func scenarios() throws -> [Vector] {
        let master = MasterKey.generate(kid: "vectors-1")
        var vectors: [Vector] = []

        // Success: parts of every shape.
        let multiChunk = pattern(count: SealFormat.chunkSize * 5 / 2)
        vectors.append(try grant(
            "success_multi_chunk", .success,
            "part 1 of 163840 bytes (byte i = i mod 251): two full chunks and a half-full final chunk",
            GrantCase.make(master: master, plaintext: multiChunk, partIndex: 1), plaintext: multiChunk))

        let oneChunk = pattern(count: SealFormat.chunkSize)
        vectors.append(try grant(
            "success_exact_chunk", .success,
            "part 1 of exactly 65536 bytes (byte i = i mod 251): one full chunk tagged FINAL",
            GrantCase.make(master: master, plaintext: oneChunk, partIndex: 1), plaintext: oneChunk))

        vectors.append(try grant(
            "success_empty_part", .success,
            "an empty part 2: one empty FINAL chunk of 17 bytes",
            GrantCase.make(master: master, plaintext: [], partIndex: 2), plaintext: []))

        let envelope = try Envelope(
            subject: "Quarterly numbers / Q3",
            from: "alice@example.com",
            fromName: "Alice Example",
            sentAt: Date(timeIntervalSince1970: 1_735_787_045),
            bodyText: "Hello Bob,\nthe numbers are attached.\n— Alice",
            to: ["bob@example.org"],
            cc: ["carol@example.net"],
            attachments: [AttachmentInfo(index: 1, name: "q3.pdf", size: 163_840, mediaType: "application/pdf")]
        ).encoded()
        vectors.append(try grant(
            "success_envelope", .success,
            "part 0: the envelope JSON in canonical form (sorted snake_case keys, whole-second UTC date)",
            GrantCase.make(master: master, plaintext: envelope, partIndex: 0), plaintext: envelope))

        // Invalid key: the grant does not open.
        let hello = Array("hello, world".utf8)
        var wrongLink = GrantCase.make(master: master, plaintext: hello, partIndex: 1)
        wrongLink.linkKey = .generate()
        vectors.append(try grant(
            "invalid_key_wrong_link_key", .invalidKey,
            "the link key is not the one the data key was wrapped for", wrongLink))

        var wrongMaster = GrantCase.make(master: master, plaintext: hello, partIndex: 1)
        wrongMaster.master = MasterKey.generate(kid: master.kid)
        vectors.append(try grant(
            "invalid_key_wrong_master_key", .invalidKey,
            "the master key has the right kid but is not the key the share was sealed under", wrongMaster))

        let messageID = MessageID.random()
        let dataKey = DataKey.generate()
        let first = GrantCase.make(master: master, messageID: messageID, dataKey: dataKey, plaintext: hello, partIndex: 1)
        var moved = GrantCase.make(master: master, messageID: messageID, dataKey: dataKey, plaintext: hello, partIndex: 1)
        moved.sealedShare = first.sealedShare
        vectors.append(try grant(
            "invalid_key_share_moved", .invalidKey,
            "the sealed share was copied from another grant of the same message (its additional data names another token hash)",
            moved))

        // Integrity: a chunk does not authenticate.
        let oneAndHalf = pattern(count: SealFormat.chunkSize * 3 / 2)
        var flipped = GrantCase.make(master: master, plaintext: oneAndHalf, partIndex: 1)
        flipped.part = SealedPart(header: flipped.part.header, chunks: [flipped.part.chunks[0], flip(flipped.part.chunks[1], at: 1000)])
        vectors.append(try grant(
            "integrity_flipped_ciphertext_byte", .integrity,
            "byte 1000 of the final chunk has one bit flipped; the first chunk is intact but no plaintext may be released",
            flipped))

        var flippedHeader = GrantCase.make(master: master, plaintext: hello, partIndex: 1)
        flippedHeader.part = SealedPart(header: flip(flippedHeader.part.header, at: 0), chunks: flippedHeader.part.chunks)
        vectors.append(try grant(
            "integrity_flipped_header_byte", .integrity,
            "byte 0 of the part header has one bit flipped", flippedHeader))

        let messageA = GrantCase.make(master: master, plaintext: hello, partIndex: 1)
        let messageB = GrantCase.make(master: master, plaintext: Array("another message".utf8), partIndex: 1)
        var swapped = messageA
        swapped.part = messageB.part
        vectors.append(try grant(
            "integrity_part_swapped_between_messages", .integrity,
            "part 1 of another message (another data key) stands in for this message's part 1", swapped))

        let sameMessage = MessageID.random()
        let sameKey = DataKey.generate()
        var indexSwapped = GrantCase.make(master: master, messageID: sameMessage, dataKey: sameKey, plaintext: hello, partIndex: 1)
        indexSwapped.part = PartCrypto.seal(Array("attachment two".utf8), dataKey: sameKey, messageID: sameMessage, partIndex: 2)
        vectors.append(try grant(
            "integrity_part_index_swapped", .integrity,
            "part 2 of the same message (same data key) stands in for part 1; the first chunk's additional data names index 2",
            indexSwapped))

        // Truncation and trailing data.
        var dropped = GrantCase.make(master: master, plaintext: oneAndHalf, partIndex: 1)
        dropped.part = SealedPart(header: dropped.part.header, chunks: [dropped.part.chunks[0]])
        vectors.append(try grant(
            "truncated_dropped_last_chunk", .truncated,
            "a part of 98304 bytes whose final chunk was dropped: one full, authentic chunk without FINAL",
            dropped))

        var appended = GrantCase.make(master: master, plaintext: hello, partIndex: 1)
        appended.part = SealedPart(header: appended.part.header, chunks: appended.part.chunks + appended.part.chunks)
        vectors.append(try grant(
            "chunk_after_final", .chunkAfterFinal,
            "the final chunk is repeated after itself", appended))

        vectors.append(contentsOf: try links())
        return vectors
    }

    /// Link parsing scenarios.
    private static func links() throws -> [Vector] {
        let base = "https://retract.example/m/"
        let secrets = GrantSecrets.generate()
        let token = secrets.token.base64url
        let key = secrets.linkKey.base64url
        let keyBytes = try Base64URL.decode(key)

        var vectors = [
            try link(
                "success_link", .success, "a canonical link", "\(base)\(token)#\(key)",
                extra: [("token", Hex.encode(secrets.token.bytes)), ("link_key", Hex.encode(keyBytes))]),
            try link(
                "non_canonical_link_token_trailing_bits", .nonCanonicalLink,
                "the token's last character sets unused trailing bits", "\(base)\(setTrailingBit(token))#\(key)"),
            try link(
                "non_canonical_link_key_trailing_bits", .nonCanonicalLink,
                "the link key's last character sets unused trailing bits", "\(base)\(token)#\(setTrailingBit(key))"),
            try link(
                "non_canonical_link_padding", .nonCanonicalLink,
                "the link key carries a padding character", "\(base)\(token)#\(key)="),
            try link(
                "non_canonical_link_token_too_short", .nonCanonicalLink,
                "the token has 21 characters instead of 22", "\(base)\(token.dropLast())#\(key)"),
            try link(
                "non_canonical_link_key_too_long", .nonCanonicalLink,
                "the link key has 44 alphabet characters instead of 43", "\(base)\(token)#\(key)A"),
            try link(
                "non_canonical_link_outside_alphabet", .nonCanonicalLink,
                "the token uses '+' from standard base64 instead of '-'", "\(base)+\(token.dropFirst())#\(key)"),
            try link(
                "non_canonical_link_whitespace", .nonCanonicalLink,
                "the link key has a space in the middle", "\(base)\(token)#\(key.prefix(20)) \(key.dropFirst(20))"),
            try link(
                "malformed_link_no_fragment", .malformedLink,
                "the link has no '#' and so no key", "\(base)\(token)"),
            try link(
                "malformed_link_wrong_path", .malformedLink,
                "the token is not under /m/", "https://retract.example/x/\(token)#\(key)"),
        ]
        vectors.sort { $0.name < $1.name }
        return vectors
    }

    private static func grant(
        _ name: String,
        _ expect: Expectation,
        _ description: String,
        _ grantCase: GrantCase,
        plaintext: [UInt8]? = nil
    ) throws -> Vector {
        var fields = grantCase.fields
        switch (grantCase.open(), expect.error) {
        case (.success(let opened), nil):
            guard let plaintext, opened == plaintext else {
                throw ScenarioMismatch(name: name, detail: "opened, but not to the expected plaintext")
            }
            fields.append(("plaintext_length", String(plaintext.count)))
            fields.append(("plaintext_blake2b_256", Hex.encode(GenericHash.hash(plaintext))))
            if plaintext.count <= 4096 {
                fields.append(("plaintext", Hex.encode(plaintext)))
            }
        case (.failure(let error), let expected?) where error == expected:
            break
        case (let outcome, _):
            throw ScenarioMismatch(name: name, detail: "expected \(expect.rawValue), got \(outcome)")
        }
        return Vector(name: name, expect: expect, description: description, fields: fields)
    }

    private static func link(
        _ name: String,
        _ expect: Expectation,
        _ description: String,
        _ text: String,
        extra: [(name: String, value: String)] = []
    ) throws -> Vector {
        let outcome = Result { () throws(SealError) in try Link.parse(text) }
        switch (outcome, expect.error) {
        case (.success, nil):
            break
        case (.failure(let error), let expected?) where error == expected:
            break
        default:
            throw ScenarioMismatch(name: name, detail: "expected \(expect.rawValue), got \(outcome)")
        }
        return Vector(name: name, expect: expect, description: description, fields: [("link", text)] + extra)
    }

    /// Bytes `i mod 251`, so a reader can rebuild the plaintext without the file.
    private static func pattern(count: Int) -> [UInt8] {
        (0..<count).map { UInt8($0 % 251) }
    }

    private static func flip(_ bytes: [UInt8], at index: Int) -> [UInt8] {
        var bytes = bytes
        bytes[index] ^= 0x01
        return bytes
    }

    /// Replaces the last character by the one whose alphabet index has the lowest bit set.
    private static func setTrailingBit(_ text: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        guard let last = text.last, let index = alphabet.firstIndex(of: last) else { return text }
        return String(text.dropLast()) + String(alphabet[index | 1])
    }
}
