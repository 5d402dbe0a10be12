import Foundation
import Seal
import Sodium
import Testing

@Suite("Test vectors")
struct VectorTests {
    /// `expect:` values and the `SealError` each one means (docs/crypto.md, "Failures").
    static let errors: [String: SealError] = [
        "invalid key": .invalidKey,
        "integrity failure": .integrity,
        "truncated": .truncated,
        "chunk after final": .chunkAfterFinal,
        "non-canonical link": .nonCanonicalEncoding,
        "malformed link": .malformedLink,
    ]

    @Test("the vector directory holds every required scenario")
    func required() {
        let required = [
            "success_multi_chunk", "success_exact_chunk", "success_empty_part", "success_envelope", "success_link",
            "invalid_key_wrong_link_key", "invalid_key_wrong_master_key", "invalid_key_share_moved",
            "integrity_flipped_ciphertext_byte", "integrity_flipped_header_byte",
            "integrity_part_swapped_between_messages", "integrity_part_index_swapped",
            "truncated_dropped_last_chunk", "chunk_after_final",
            "non_canonical_link_token_trailing_bits", "non_canonical_link_key_trailing_bits",
            "non_canonical_link_padding", "non_canonical_link_token_too_short", "non_canonical_link_key_too_long",
            "non_canonical_link_outside_alphabet", "non_canonical_link_whitespace",
            "malformed_link_no_fragment", "malformed_link_wrong_path",
        ]
        for name in required {
            #expect(VectorFile.names.contains(name), "missing vector \(name)")
        }
    }

    @Test("each vector gives exactly its expected outcome", arguments: VectorFile.names)
    func vector(_ name: String) throws {
        let vector = try VectorFile.load(name)
        #expect(vector.expect == "success" || Self.errors[vector.expect] != nil, "unknown expect: \(vector.expect)")
        if vector.fields["link"] != nil {
            try checkLink(vector)
        } else {
            try checkGrant(vector)
        }
    }

    private func checkLink(_ vector: VectorFile) throws {
        let text = try vector.text("link")
        let outcome = Result { () throws(SealError) in try Link.parse(text) }
        switch outcome {
        case .success(let link):
            #expect(vector.expect == "success", "\(vector.name) parsed but expects \(vector.expect)")
            #expect(Hex.encode(link.token.bytes) == (try vector.text("token")))
            #expect(Hex.encode(try Base64URL.decode(link.linkKey.base64url)) == (try vector.text("link_key")))
            #expect(link.url(publicBase: "https://retract.example") == text)
        case .failure(let error):
            #expect(Self.errors[vector.expect] == error, "\(vector.name) failed with \(error)")
        }
    }

    private func checkGrant(_ vector: VectorFile) throws {
        let master = try MasterKey(kid: vector.text("kid"), secret: SecureBytes(copying: vector.hex("master_key")))
        let messageID = try MessageID(bytes: vector.hex("message_id"))
        let token = try GrantToken(bytes: vector.hex("token"))
        let linkKey = try LinkKey(secret: SecureBytes(copying: vector.hex("link_key")))
        let sealedShare = try vector.hex("sealed_share")
        let wrappedDEK = try vector.hex("wrapped_dek")
        let partIndex = try vector.integer("part_index", as: UInt32.self)
        let chunkCount = try vector.integer("chunk_count")
        let part = SealedPart(
            header: try vector.hex("part_header"),
            chunks: try (0..<chunkCount).map { try vector.hex("chunk_\($0)") }
        )
        #expect(MessageID(parsingOrNil: vector.fields["message_id"]) == messageID)

        let outcome = Result { () throws(SealError) -> [UInt8] in
            let dataKey = try GrantCrypto.openDataKey(
                sealedShare: sealedShare,
                wrappedDataKey: wrappedDEK,
                master: master,
                token: token,
                linkKey: linkKey,
                messageID: messageID
            )
            return try PartCrypto.open(part, dataKey: dataKey, messageID: messageID, partIndex: partIndex)
        }

        switch outcome {
        case .success(let plaintext):
            #expect(vector.expect == "success", "\(vector.name) opened but expects \(vector.expect)")
            #expect(plaintext.count == (try vector.integer("plaintext_length")))
            #expect(Hex.encode(GenericHash.hash(plaintext)) == (try vector.text("plaintext_blake2b_256")))
            if let expected = vector.fields["plaintext"] {
                #expect(Hex.encode(plaintext) == expected)
            }
            if partIndex == 0 {
                _ = try Envelope.decode(plaintext)
            }
        case .failure(let error):
            #expect(Self.errors[vector.expect] == error, "\(vector.name) failed with \(error), expects \(vector.expect)")
            #expect(vector.fields["plaintext"] == nil && vector.fields["plaintext_length"] == nil)
        }
    }
}

extension MessageID {
    /// The id parsed from its hex text, or `nil`; lets the tests check the text form too.
    fileprivate init?(parsingOrNil text: String?) {
        guard let text, let id = try? MessageID(parsing: text) else { return nil }
        self = id
    }
}
