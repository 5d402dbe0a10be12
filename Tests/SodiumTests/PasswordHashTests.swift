import Sodium
import Testing

@Suite("PasswordHash (Argon2id)")
struct PasswordHashTests {
    @Test("a hash verifies its password only, and is salted")
    func hashAndVerify() throws {
        let hash = try PasswordHash.hash("correct horse battery staple")
        let again = try PasswordHash.hash("correct horse battery staple")

        #expect(hash.hasPrefix("$argon2id$"))
        #expect(hash != again)
        #expect(PasswordHash.verify("correct horse battery staple", against: hash))
        #expect(!PasswordHash.verify("correct horse battery stapl", against: hash))
        #expect(!PasswordHash.needsRehash(hash))
    }

    @Test("a malformed hash never verifies and needs rehashing")
    func malformed() {
        #expect(!PasswordHash.verify("", against: "not a hash"))
        #expect(PasswordHash.needsRehash("not a hash"))
    }
}
