import Sodium
import Testing

@Suite("constantTimeEquals and secureZero")
struct SecureMemoryTests {
    @Test("equal bytes compare equal; any difference or length mismatch does not")
    func equals() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(constantTimeEquals([UInt8](), []))
        #expect(constantTimeEquals(SecureBytes(copying: [5, 6]), SecureBytes(copying: [5, 6])))
        #expect(!constantTimeEquals(SecureBytes(copying: [5, 6]), SecureBytes(copying: [5, 7])))
    }

    @Test("secureZero clears a buffer")
    func zero() {
        var bytes: [UInt8] = [1, 2, 3, 4]
        bytes.withUnsafeMutableBytes { secureZero($0) }
        #expect(bytes == [0, 0, 0, 0])
    }
}
