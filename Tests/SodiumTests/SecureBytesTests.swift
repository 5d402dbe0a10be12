import Sodium
import Testing

@Suite("SecureBytes")
struct SecureBytesTests {
    @Test("zero() overwrites every byte while the buffer is still alive")
    func zeroWipes() {
        let secret = SecureBytes.random(count: 64)
        #expect(secret.withUnsafeBytes { $0.contains { $0 != 0 } })

        secret.zero()

        #expect(secret.withUnsafeBytes { $0.allSatisfy { $0 == 0 } })
        #expect(secret.count == 64)
    }

    @Test("copying takes the bytes and keeps no link to the source")
    func copyingIsIndependent() {
        let source: [UInt8] = [1, 2, 3, 4]
        let secret = SecureBytes(copying: source)
        let copy = SecureBytes(copying: secret)

        secret.zero()

        #expect(copy.withUnsafeBytes { Array($0) } == source)
    }

    @Test("a new buffer of a given size starts as zeros")
    func startsZeroed() {
        let secret = SecureBytes(count: 32)
        #expect(secret.withUnsafeBytes { Array($0) } == [UInt8](repeating: 0, count: 32))
    }

    @Test("empty buffers work")
    func empty() {
        let secret = SecureBytes(copying: [UInt8]())
        #expect(secret.count == 0)
        #expect(secret.withUnsafeBytes { $0.count } == 0)
        secret.zero()
    }

    @Test("random buffers differ from each other")
    func randomDiffers() {
        let first = SecureBytes.random(count: 32)
        let second = SecureBytes.random(count: 32)
        #expect(!constantTimeEquals(first, second))
    }

    @Test("writes through withUnsafeMutableBytes are kept")
    func mutableWrites() {
        let secret = SecureBytes(count: 3)
        secret.withUnsafeMutableBytes { $0.copyBytes(from: [7, 8, 9]) }
        #expect(secret.withUnsafeBytes { Array($0) } == [7, 8, 9])
    }

    @Test("description, debugDescription and dump never show the bytes")
    func redacted() {
        let secret = SecureBytes(copying: [0xAB, 0xCD, 0xEF])
        var dumped = ""
        dump(secret, to: &dumped)

        #expect(secret.description == "SecureBytes(redacted, 3 bytes)")
        #expect(String(reflecting: secret) == "SecureBytes(redacted, 3 bytes)")
        #expect("\(secret)" == "SecureBytes(redacted, 3 bytes)")
        for text in [secret.description, dumped] {
            #expect(!text.lowercased().contains("abcdef"))
            #expect(!text.contains("171") && !text.contains("205"))
        }
    }

    @Test("typed errors pass through withUnsafeBytes unchanged")
    func typedErrors() {
        let secret = SecureBytes(count: 1)
        #expect(throws: SodiumError.invalidLength) {
            try secret.withUnsafeBytes { (_) throws(SodiumError) in throw .invalidLength }
        }
    }
}
