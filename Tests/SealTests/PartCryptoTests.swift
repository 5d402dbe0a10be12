import Seal
import Sodium
import Testing

@Suite("Part streams")
struct PartCryptoTests {
    let messageID = MessageID.random()
    let keyBytes = SecureBytes.random(count: 32)
    var dataKey: DataKey { get throws { try DataKey(secret: keyBytes) } }

    static let chunk = SealFormat.chunkSize

    @Test(
        "whole parts of every shape seal and open back",
        arguments: [0, 1, 100, chunk - 1, chunk, chunk + 1, 2 * chunk, chunk * 5 / 2]
    )
    func roundTrip(size: Int) throws {
        let plaintext = Random.bytes(size)
        let part = PartCrypto.seal(plaintext, dataKey: try dataKey, messageID: messageID, partIndex: 3)
        #expect(try PartCrypto.open(part, dataKey: try dataKey, messageID: messageID, partIndex: 3) == plaintext)
    }

    @Test("chunking follows the rules: full chunks, then the fullest possible final chunk")
    func chunkSizes() throws {
        let empty = PartCrypto.seal([], dataKey: try dataKey, messageID: messageID, partIndex: 1)
        #expect(empty.header.count == 24)
        #expect(empty.chunks.map(\.count) == [17])

        let exact = PartCrypto.seal(Random.bytes(2 * Self.chunk), dataKey: try dataKey, messageID: messageID, partIndex: 1)
        #expect(exact.chunks.map(\.count) == [SealFormat.sealedChunkSize, SealFormat.sealedChunkSize])

        let twoAndHalf = PartCrypto.seal(Random.bytes(Self.chunk * 5 / 2), dataKey: try dataKey, messageID: messageID, partIndex: 1)
        #expect(twoAndHalf.chunks.map(\.count) == [SealFormat.sealedChunkSize, SealFormat.sealedChunkSize, Self.chunk / 2 + 17])
    }

    @Test("a streaming sealer may end with an empty final chunk, and openers accept it")
    func emptyFinalAfterFullChunks() throws {
        let plaintext = Random.bytes(Self.chunk)
        let sealer = PartSealer(dataKey: try dataKey, messageID: messageID, partIndex: 1)
        let chunks = [try sealer.sealChunk(plaintext, isFinal: false), try sealer.sealChunk([], isFinal: true)]
        let part = SealedPart(header: sealer.header, chunks: chunks)
        #expect(try PartCrypto.open(part, dataKey: try dataKey, messageID: messageID, partIndex: 1) == plaintext)
    }

    @Test("the sealer refuses short non-final chunks, oversized chunks and anything after FINAL")
    func sealerRules() throws {
        let sealer = PartSealer(dataKey: try dataKey, messageID: messageID, partIndex: 1)
        #expect(throws: SealError.shortChunk) { try sealer.sealChunk(Random.bytes(Self.chunk - 1), isFinal: false) }
        #expect(throws: SealError.oversizedChunk) { try sealer.sealChunk(Random.bytes(Self.chunk + 1), isFinal: true) }
        // A refused chunk leaves the sealer usable.
        let last = try sealer.sealChunk([1, 2, 3], isFinal: true)
        #expect(sealer.isFinished)
        #expect(throws: SealError.sealedAfterFinal) { try sealer.sealChunk([4], isFinal: true) }

        let part = SealedPart(header: sealer.header, chunks: [last])
        #expect(try PartCrypto.open(part, dataKey: try dataKey, messageID: messageID, partIndex: 1) == [1, 2, 3])
    }

    @Test("the opener rejects a chunk after FINAL and keeps failing afterwards")
    func chunkAfterFinal() throws {
        let part = PartCrypto.seal([1, 2, 3], dataKey: try dataKey, messageID: messageID, partIndex: 1)
        let opener = try PartOpener(dataKey: try dataKey, messageID: messageID, partIndex: 1, header: part.header)
        let opened = try opener.openChunk(part.chunks[0])
        #expect(opened.plaintext == [1, 2, 3])
        #expect(opened.isFinal)
        #expect(throws: SealError.chunkAfterFinal) { try opener.openChunk(part.chunks[0]) }
        #expect(throws: SealError.chunkAfterFinal) { try opener.finish() }

        let oversizedAfterFinal = try PartOpener(dataKey: try dataKey, messageID: messageID, partIndex: 1, header: part.header)
        _ = try oversizedAfterFinal.openChunk(part.chunks[0])
        #expect(throws: SealError.chunkAfterFinal) { try oversizedAfterFinal.openChunk(Random.bytes(SealFormat.sealedChunkSize + 1)) }

        let appended = SealedPart(header: part.header, chunks: part.chunks + part.chunks)
        #expect(throws: SealError.chunkAfterFinal) {
            try PartCrypto.open(appended, dataKey: try dataKey, messageID: messageID, partIndex: 1)
        }
    }

    @Test("dropping the last chunk, or every chunk, is truncation")
    func truncation() throws {
        let part = PartCrypto.seal(Random.bytes(Self.chunk * 3 / 2), dataKey: try dataKey, messageID: messageID, partIndex: 1)
        let dropped = SealedPart(header: part.header, chunks: [part.chunks[0]])
        #expect(throws: SealError.truncated) { try PartCrypto.open(dropped, dataKey: try dataKey, messageID: messageID, partIndex: 1) }
        let none = SealedPart(header: part.header, chunks: [])
        #expect(throws: SealError.truncated) { try PartCrypto.open(none, dataKey: try dataKey, messageID: messageID, partIndex: 1) }

        let opener = try PartOpener(dataKey: try dataKey, messageID: messageID, partIndex: 1, header: part.header)
        _ = try opener.openChunk(part.chunks[0])
        #expect(throws: SealError.truncated) { try opener.finish() }
    }

    @Test("a flipped byte anywhere in header or chunks is an integrity failure")
    func flippedBytes() throws {
        let part = PartCrypto.seal(Random.bytes(Self.chunk + 10), dataKey: try dataKey, messageID: messageID, partIndex: 1)
        var candidates: [SealedPart] = []
        for index in [0, 11, 23] {
            var header = part.header
            header[index] ^= 0x01
            candidates.append(SealedPart(header: header, chunks: part.chunks))
        }
        for (chunkIndex, offset) in [(0, 0), (0, 30_000), (0, SealFormat.sealedChunkSize - 1), (1, 0), (1, 26)] {
            var chunks = part.chunks
            chunks[chunkIndex][offset] ^= 0x40
            candidates.append(SealedPart(header: part.header, chunks: chunks))
        }
        for candidate in candidates {
            #expect(throws: SealError.integrity) {
                try PartCrypto.open(candidate, dataKey: try dataKey, messageID: messageID, partIndex: 1)
            }
        }
    }

    @Test("parts cannot move to another index, another message or another key")
    func binding() throws {
        let part = PartCrypto.seal([1, 2, 3], dataKey: try dataKey, messageID: messageID, partIndex: 1)
        #expect(throws: SealError.integrity) { try PartCrypto.open(part, dataKey: try dataKey, messageID: messageID, partIndex: 2) }
        #expect(throws: SealError.integrity) { try PartCrypto.open(part, dataKey: try dataKey, messageID: .random(), partIndex: 1) }
        #expect(throws: SealError.integrity) { try PartCrypto.open(part, dataKey: .generate(), messageID: messageID, partIndex: 1) }
    }

    @Test("reordered chunks fail to authenticate")
    func reordered() throws {
        let part = PartCrypto.seal(Random.bytes(Self.chunk * 2 + 5), dataKey: try dataKey, messageID: messageID, partIndex: 1)
        let swapped = SealedPart(header: part.header, chunks: [part.chunks[1], part.chunks[0], part.chunks[2]])
        #expect(throws: SealError.integrity) { try PartCrypto.open(swapped, dataKey: try dataKey, messageID: messageID, partIndex: 1) }
        let middleSwapped = SealedPart(header: part.header, chunks: [part.chunks[0], part.chunks[2], part.chunks[1]])
        #expect(throws: SealError.integrity) {
            try PartCrypto.open(middleSwapped, dataKey: try dataKey, messageID: messageID, partIndex: 1)
        }
    }

    @Test("the opener rejects an authentic but short non-final chunk")
    func shortNonFinalChunk() throws {
        let (header, chunks) = try craft([(Random.bytes(100), .message), (Random.bytes(10), .final)])
        let opener = try PartOpener(dataKey: try dataKey, messageID: messageID, partIndex: 1, header: header)
        #expect(throws: SealError.shortChunk) { try opener.openChunk(chunks[0]) }
        #expect(throws: SealError.shortChunk) { try opener.openChunk(chunks[1]) }
        #expect(throws: SealError.shortChunk) { try opener.finish() }
    }

    @Test("the opener rejects tags other than MESSAGE and FINAL", arguments: [SecretStream.Tag.push, .rekey, SecretStream.Tag(rawValue: 7)])
    func unexpectedTag(tag: SecretStream.Tag) throws {
        let (header, chunks) = try craft([(Random.bytes(Self.chunk), tag)])
        #expect(throws: SealError.unexpectedTag) {
            try PartCrypto.open(SealedPart(header: header, chunks: chunks), dataKey: try dataKey, messageID: messageID, partIndex: 1)
        }
    }

    @Test("the opener rejects an oversized chunk before decrypting it")
    func oversized() throws {
        let (header, chunks) = try craft([(Random.bytes(Self.chunk + 1), .final)])
        #expect(chunks[0].count == SealFormat.sealedChunkSize + 1)
        let opener = try PartOpener(dataKey: try dataKey, messageID: messageID, partIndex: 1, header: header)
        #expect(throws: SealError.oversizedChunk) { try opener.openChunk(chunks[0]) }
        #expect(throws: SealError.oversizedChunk) {
            try PartCrypto.open(SealedPart(header: header, chunks: chunks), dataKey: try dataKey, messageID: messageID, partIndex: 1)
        }
    }

    @Test("a header of the wrong length or a chunk below 17 bytes is refused")
    func lengths() throws {
        #expect(throws: SealError.invalidLength) {
            try PartOpener(dataKey: try dataKey, messageID: messageID, partIndex: 1, header: Random.bytes(23))
        }
        let part = PartCrypto.seal([], dataKey: try dataKey, messageID: messageID, partIndex: 1)
        let opener = try PartOpener(dataKey: try dataKey, messageID: messageID, partIndex: 1, header: part.header)
        #expect(throws: SealError.integrity) { try opener.openChunk(Random.bytes(16)) }
    }

    @Test("streaming into caller buffers gives the same part as whole-part sealing")
    func buffersRoundTrip() throws {
        let plaintext = Random.bytes(Self.chunk + 300)
        let sealer = PartSealer(dataKey: try dataKey, messageID: messageID, partIndex: 4)
        var output = [UInt8](repeating: 0, count: SealFormat.sealedChunkSize)
        var chunks: [[UInt8]] = []
        for (range, isFinal) in [(0..<Self.chunk, false), (Self.chunk..<plaintext.count, true)] {
            let written = try Array(plaintext[range]).withUnsafeBytes { source in
                try output.withUnsafeMutableBytes { try sealer.sealChunk(source, isFinal: isFinal, into: $0) }
            }
            chunks.append(Array(output[0..<written]))
        }
        let part = SealedPart(header: sealer.header, chunks: chunks)
        #expect(try PartCrypto.open(part, dataKey: try dataKey, messageID: messageID, partIndex: 4) == plaintext)
    }

    /// Seals chunks with any tags and sizes, bypassing `PartSealer`'s rules, with the format's
    /// first-chunk additional data.
    private func craft(_ chunks: [(plaintext: [UInt8], tag: SecretStream.Tag)]) throws -> (header: [UInt8], chunks: [[UInt8]]) {
        let push = SecretStream.Push(key: keyBytes)
        var index = UInt32(1).bigEndian
        let ad = Array("retract/part/v1".utf8) + messageID.bytes + withUnsafeBytes(of: &index) { Array($0) }
        var sealed: [[UInt8]] = []
        for (position, chunk) in chunks.enumerated() {
            sealed.append(try push.push(chunk.plaintext, additionalData: position == 0 ? ad : [], tag: chunk.tag))
        }
        return (push.header, sealed)
    }
}
