import Sodium
import Testing

@Suite("Random")
struct RandomTests {
    @Test("bytes returns the requested count and differs between calls")
    func bytes() {
        let first = Random.bytes(32)
        let second = Random.bytes(32)
        #expect(first.count == 32)
        #expect(first != second)
        #expect(Random.bytes(0).isEmpty)
    }

    @Test("fill writes into the whole buffer")
    func fill() {
        var buffer = [UInt8](repeating: 0, count: 64)
        buffer.withUnsafeMutableBytes { Random.fill($0) }
        #expect(buffer.contains { $0 != 0 })
    }
}
