import Sodium
import Testing

@Suite("SecretStream")
struct SecretStreamTests {
    @Test("chunks pushed with tags pull back in order with the same tags")
    func roundTrip() throws {
        let key = SecureBytes.random(count: 32)
        let push = SecretStream.Push(key: key)
        let first = try push.push(Array("one".utf8), additionalData: [1])
        let last = try push.push(Array("two".utf8), tag: .final)
        #expect(push.header.count == 24)
        #expect(first.count == 3 + 17)
        #expect(push.isFinished)

        let pull = try SecretStream.Pull(key: key, header: push.header)
        let openedFirst = try pull.pull(first, additionalData: [1])
        let openedLast = try pull.pull(last)
        #expect(openedFirst.message == Array("one".utf8))
        #expect(openedFirst.tag == .message)
        #expect(openedLast.message == Array("two".utf8))
        #expect(openedLast.tag == .final)
        #expect(pull.isFinished)
    }

    @Test("pushing or pulling after FINAL is refused")
    func afterFinal() throws {
        let key = SecureBytes.random(count: 32)
        let push = SecretStream.Push(key: key)
        let last = try push.push([], tag: .final)
        #expect(throws: SodiumError.streamFinished) { try push.push([1]) }

        let pull = try SecretStream.Pull(key: key, header: push.header)
        _ = try pull.pull(last)
        #expect(throws: SodiumError.streamFinished) { try pull.pull(last) }
    }

    @Test("reordered chunks, wrong additional data or a flipped byte fail to authenticate")
    func rejects() throws {
        let key = SecureBytes.random(count: 32)
        let push = SecretStream.Push(key: key)
        let first = try push.push([1, 2, 3], additionalData: [7])
        let second = try push.push([4, 5, 6], tag: .final)

        #expect(throws: SodiumError.authenticationFailed) {
            try SecretStream.Pull(key: key, header: push.header).pull(second)
        }
        #expect(throws: SodiumError.authenticationFailed) {
            try SecretStream.Pull(key: key, header: push.header).pull(first, additionalData: [8])
        }
        var flipped = first
        flipped[0] ^= 1
        #expect(throws: SodiumError.authenticationFailed) {
            try SecretStream.Pull(key: key, header: push.header).pull(flipped, additionalData: [7])
        }
    }

    @Test("a header of the wrong size or a chunk shorter than 17 bytes is an invalid length")
    func lengths() throws {
        let key = SecureBytes.random(count: 32)
        #expect(throws: SodiumError.invalidLength) { try SecretStream.Pull(key: key, header: [UInt8](repeating: 0, count: 23)) }
        let pull = try SecretStream.Pull(key: key, header: SecretStream.Push(key: key).header)
        #expect(throws: SodiumError.invalidLength) { try pull.pull([UInt8](repeating: 0, count: 16)) }
    }

    @Test("pushing into a caller's buffer gives the same stream as returned arrays")
    func intoBuffer() throws {
        let key = SecureBytes.random(count: 32)
        let push = SecretStream.Push(key: key)
        var buffer = [UInt8](repeating: 0, count: 64)
        let message: [UInt8] = [1, 2, 3, 4]
        let written = try message.withUnsafeBytes { source in
            try buffer.withUnsafeMutableBytes { try push.push(source, tag: .final, into: $0) }
        }
        #expect(written == 21)

        let pull = try SecretStream.Pull(key: key, header: push.header)
        var output = [UInt8](repeating: 0, count: 4)
        let opened = try Array(buffer[0..<written]).withUnsafeBytes { chunk in
            try output.withUnsafeMutableBytes { try pull.pull(chunk, into: $0) }
        }
        #expect(opened.count == 4)
        #expect(opened.tag == .final)
        #expect(output == message)
    }
}
