import Foundation
import Seal
import Sodium
import Testing

/// Sealing and opening through `PartSealer`/`PartOpener`/`PartCrypto` must keep ≥ 85 % of raw
/// secretstream throughput. Slow and timing-sensitive, so it runs only in optimized builds
/// with `RETRACT_BENCH=1` (`RETRACT_BENCH=1 swift test -c release -Xswiftc -enable-testing
/// --filter Throughput`).
@Suite("Part throughput", .enabled(if: BenchmarkGate.isEnabled), .serialized)
struct PartThroughputTests {
    static let size = 256 << 20
    static let rounds = 3
    static let required = 0.85

    let plaintext = Random.bytes(size)
    let keyBytes = SecureBytes.random(count: 32)
    let messageID = MessageID.random()

    @Test("sealing a 256 MiB attachment chunk by chunk keeps 85 % of raw secretstream speed")
    func sealing() throws {
        let dataKey = try DataKey(secret: keyBytes)
        let raw = try best {
            let push = SecretStream.Push(key: keyBytes)
            var output = [UInt8](repeating: 0, count: SealFormat.sealedChunkSize)
            try plaintext.withUnsafeBytes { source in
                try output.withUnsafeMutableBytes { out in
                    var offset = 0
                    while offset < source.count {
                        let end = min(offset + SealFormat.chunkSize, source.count)
                        _ = try push.push(UnsafeRawBufferPointer(rebasing: source[offset..<end]), tag: end == source.count ? .final : .message, into: out)
                        offset = end
                    }
                }
            }
        }
        let sealed = try best {
            let sealer = PartSealer(dataKey: dataKey, messageID: messageID, partIndex: 1)
            try plaintext.withUnsafeBytes { source in
                var offset = 0
                while offset < source.count {
                    let end = min(offset + SealFormat.chunkSize, source.count)
                    let chunk = try sealer.sealChunk(UnsafeRawBufferPointer(rebasing: source[offset..<end]), isFinal: end == source.count)
                    precondition(chunk.count > 0)
                    offset = end
                }
            }
        }
        report("seal", raw: raw, measured: sealed)
        #expect(raw / sealed >= Self.required)
    }

    @Test("opening a 256 MiB attachment chunk by chunk, or whole, keeps 85 % of raw secretstream speed")
    func opening() throws {
        let dataKey = try DataKey(secret: keyBytes)
        let part = PartCrypto.seal(plaintext, dataKey: dataKey, messageID: messageID, partIndex: 1)
        let ad = Array("retract/part/v1".utf8) + messageID.bytes + [0, 0, 0, 1]
        let raw = try best {
            let pull = try SecretStream.Pull(key: keyBytes, header: part.header)
            var output = [UInt8](repeating: 0, count: SealFormat.chunkSize)
            try output.withUnsafeMutableBytes { out in
                for (index, chunk) in part.chunks.enumerated() {
                    _ = try chunk.withUnsafeBytes { bytes in
                        try ad.withUnsafeBytes { adBytes in
                            try pull.pull(bytes, additionalData: index == 0 ? adBytes : UnsafeRawBufferPointer(start: nil, count: 0), into: out)
                        }
                    }
                }
            }
        }
        let streamed = try best {
            let opener = try PartOpener(dataKey: dataKey, messageID: messageID, partIndex: 1, header: part.header)
            for chunk in part.chunks {
                let opened = try opener.openChunk(chunk)
                precondition(opened.plaintext.count > 0)
            }
            try opener.finish()
        }
        // Raw secretstream into one fresh buffer the size of the part: what any API that returns
        // the whole plaintext must pay at least (the kernel faults in and zeroes 256 MiB).
        let rawWhole = try best {
            let pull = try SecretStream.Pull(key: keyBytes, header: part.header)
            var output = [UInt8](unsafeUninitializedCapacity: Self.size) { _, initialized in initialized = Self.size }
            try output.withUnsafeMutableBytes { out in
                var offset = 0
                for (index, chunk) in part.chunks.enumerated() {
                    offset += try chunk.withUnsafeBytes { bytes in
                        try ad.withUnsafeBytes { adBytes in
                            try pull.pull(
                                bytes,
                                additionalData: index == 0 ? adBytes : UnsafeRawBufferPointer(start: nil, count: 0),
                                into: UnsafeMutableRawBufferPointer(rebasing: out[offset...])
                            ).count
                        }
                    }
                }
            }
        }
        let whole = try best {
            let opened = try PartCrypto.open(part, dataKey: dataKey, messageID: messageID, partIndex: 1)
            precondition(opened.count == Self.size)
        }
        report("open (chunks)", raw: raw, measured: streamed)
        report("open (whole)", raw: rawWhole, measured: whole)
        #expect(raw / streamed >= Self.required)
        #expect(rawWhole / whole >= Self.required)
    }

    /// The fastest of a few rounds, in seconds: the least disturbed by other load.
    private func best(_ body: () throws -> Void) rethrows -> Double {
        var fastest = Double.infinity
        for _ in 0..<Self.rounds {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            fastest = min(fastest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return fastest
    }

    private func report(_ name: String, raw: Double, measured: Double) {
        let mib = Double(Self.size) / Double(1 << 20)
        print(
            "throughput \(name): raw \(Int(mib / raw)) MiB/s, Seal \(Int(mib / measured)) MiB/s, ratio \(String(format: "%.3f", raw / measured))"
        )
    }
}
