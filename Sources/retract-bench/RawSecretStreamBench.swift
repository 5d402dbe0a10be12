import Foundation
import Seal
import Sodium

/// The baseline: libsodium's secretstream through the thinnest Sodium API
/// (`SecretStream.Push/Pull` over raw buffers), 64 KiB chunks, everything in memory.
///
/// The plaintext sits in one buffer filled before the clock starts. Push seals it chunk by
/// chunk into one reused output buffer; pull opens a ciphertext buffer (sealed once,
/// untimed, at creation) chunk by chunk into one reused output buffer. So a run measures the
/// cipher and one streaming read of the input: no allocation, no system call, output always
/// in cache. `verify()` pulls once more, untimed, checking every chunk against the plaintext.
///
/// The output buffer starts 2 KiB away, modulo 4 KiB, from the input's address. Input and
/// output addresses 4 KiB apart stall the CPU's loads behind its stores ("4K aliasing"):
/// on the reference machine push lost about 30% with both buffers page-aligned.
final class RawSecretStreamBench {
    private let size: Int
    private let chunkCount: Int
    private let sealedSize: Int
    private let plaintext: UnsafeMutableRawBufferPointer
    private let ciphertext: UnsafeMutableRawBufferPointer
    private let chunkOutStorage: UnsafeMutableRawBufferPointer
    private let chunkOut: UnsafeMutableRawBufferPointer
    private let key = SecureBytes.random(count: SecretStream.keyBytes)
    private var header: [UInt8] = []

    private static let chunkSize = SealFormat.chunkSize
    private static let overhead = SecretStream.overheadBytes

    /// Allocates and fills the buffers and seals the ciphertext that `pull()` opens.
    init(size: Int, pattern: PatternFile) throws(BenchError) {
        self.size = size
        chunkCount = max(1, (size + Self.chunkSize - 1) / Self.chunkSize)
        sealedSize = size + chunkCount * Self.overhead
        plaintext = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 64)
        ciphertext = UnsafeMutableRawBufferPointer.allocate(byteCount: sealedSize, alignment: 64)
        chunkOutStorage = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Self.chunkSize + Self.overhead + 4096, alignment: 4096)
        let skew = (Int(bitPattern: plaintext.baseAddress!) + 2048) % 4096
        chunkOut = UnsafeMutableRawBufferPointer(
            rebasing: chunkOutStorage[skew..<(skew + Self.chunkSize + Self.overhead)])
        pattern.fill(plaintext)
        chunkOut.initializeMemory(as: UInt8.self, repeating: 0)
        header = try seal(keep: true)
    }

    deinit {
        plaintext.deallocate()
        ciphertext.deallocate()
        chunkOutStorage.deallocate()
    }

    /// One timed push of the whole plaintext; returns its seconds.
    func push() throws(BenchError) -> Double {
        try Stopwatch.measure { () throws(BenchError) in _ = try seal(keep: false) }.1
    }

    /// One timed pull of the whole ciphertext; returns its seconds.
    func pull() throws(BenchError) -> Double {
        try Stopwatch.measure { () throws(BenchError) in try open(check: false) }.1
    }

    /// An untimed pull that compares every opened chunk with the plaintext.
    func verify() throws(BenchError) {
        try open(check: true)
    }

    /// Seals the whole plaintext; with `keep`, into `ciphertext`, else into `chunkOut`.
    private func seal(keep: Bool) throws(BenchError) -> [UInt8] {
        let stream = SecretStream.Push(key: key)
        var input = 0
        var output = 0
        for index in 0..<chunkCount {
            let count = min(Self.chunkSize, size - input)
            let target =
                keep
                ? UnsafeMutableRawBufferPointer(rebasing: ciphertext[output..<(output + count + Self.overhead)])
                : chunkOut
            do {
                output += try stream.push(
                    UnsafeRawBufferPointer(rebasing: plaintext[input..<(input + count)]),
                    tag: index == chunkCount - 1 ? .final : .message, into: target)
            } catch {
                throw BenchError("raw secretstream push failed: \(error)")
            }
            input += count
        }
        return stream.header
    }

    /// Opens `ciphertext` into `chunkOut`; with `check`, compares every chunk.
    private func open(check: Bool) throws(BenchError) {
        let stream: SecretStream.Pull
        do {
            stream = try SecretStream.Pull(key: key, header: header)
        } catch {
            throw BenchError("raw secretstream header refused: \(error)")
        }
        var input = 0
        var output = 0
        while input < sealedSize {
            let count = min(Self.chunkSize + Self.overhead, sealedSize - input)
            let opened: Int
            do {
                opened = try stream.pull(
                    UnsafeRawBufferPointer(rebasing: ciphertext[input..<(input + count)]), into: chunkOut
                ).count
            } catch {
                throw BenchError("raw secretstream pull failed: \(error)")
            }
            if check, memcmp(chunkOut.baseAddress!, plaintext.baseAddress! + output, opened) != 0 {
                throw BenchError("raw secretstream round trip changed the data at offset \(output)")
            }
            input += count
            output += opened
        }
        guard stream.isFinished, output == size else {
            throw BenchError("raw secretstream pull ended early at \(output) of \(size) bytes")
        }
    }
}
