import Foundation
import RetractTestSupport
import Sodium
import Testing

@testable import RetractCore

@Suite("Sender accounts and API tokens")
struct SenderAccountTests {
    @Test("a new sender's token identifies them, and the vault files hold neither its text nor its bytes")
    func tokenStoredOnlyHashed() async throws {
        // Given
        let bench = try TestBench()
        // When
        let (account, token) = try bench.service.addSender(address: "alice@corp.test", name: "Alice")
        // Then
        #expect(token.hasPrefix("rt_"))
        #expect(token.count == 3 + 43)
        let raw = try Base64URL.decode(String(token.dropFirst(3)))
        #expect(raw.count == 32)
        #expect(await bench.service.sender(bearerToken: token) == account)
        #expect(
            account
                == SenderAccount(
                    address: "alice@corp.test", name: "Alice", createdAt: bench.clock.now, hasPassword: false))
        let files = try bench.vaultFileBytes()
        let holdsText =
            files.contains(bytes: Array(token.utf8)) || files.contains(bytes: Array(token.dropFirst(3).utf8))
        let holdsBytes = files.contains(bytes: raw)
        #expect(!holdsText)
        #expect(!holdsBytes)
    }

    @Test("a replaced token is dead at once and the new one works")
    func rotatedTokenKillsTheOldOne() async throws {
        let bench = try TestBench()
        let (account, old) = try bench.service.addSender(address: "alice@corp.test", name: nil)
        let new = try bench.service.rotateSenderToken(address: "alice@corp.test")
        #expect(new != old)
        #expect(await bench.service.sender(bearerToken: old) == nil)
        #expect(await bench.service.sender(bearerToken: new) == account)
    }

    @Test("a missing, malformed, unknown or altered token finds no sender")
    func badTokensFindNobody() async throws {
        let bench = try TestBench()
        let (_, token) = try bench.service.addSender(address: "alice@corp.test", name: nil)
        let last = token.last == "A" ? "B" : "A"
        let altered = String(token.dropLast()) + last
        let unknown = "rt_" + Base64URL.encode(Random.bytes(32))
        for bad in ["", "rt_", String(token.dropFirst(3)), "Bearer " + token, token + "A", altered, unknown] {
            #expect(await bench.service.sender(bearerToken: bad) == nil, "\(bad.count) characters")
        }
    }

    @Test("a second account for the same address, in any letter case, is refused with senderExists")
    func duplicateRefused() throws {
        let bench = try TestBench()
        _ = try bench.service.addSender(address: "alice@corp.test", name: nil)
        #expect(throws: RetractError.senderExists("Alice@corp.test")) {
            try bench.service.addSender(address: "Alice@CORP.test", name: nil)
        }
        #expect(try bench.service.senderAccounts().count == 1)
    }

    @Test("an address that is not a mailbox is refused with invalidAddress")
    func invalidAddressRefused() throws {
        let bench = try TestBench()
        #expect { try bench.service.addSender(address: "not an address", name: nil) } throws: { error in
            (error as? RetractError)?.code == .invalidAddress
        }
        #expect(try bench.service.senderAccounts().isEmpty)
    }

    @Test("a password verifies after it is set; one under 10 characters is refused with weakPassword")
    func passwordRules() async throws {
        let bench = try TestBench()
        _ = try bench.service.addSender(address: "alice@corp.test", name: nil)
        #expect(throws: RetractError.weakPassword(minimum: 10, maximum: 1024)) {
            try bench.service.setSenderPassword(address: "alice@corp.test", password: "short")
        }
        try bench.service.setSenderPassword(address: "alice@corp.test", password: "correct horse battery")
        #expect(try bench.service.senderAccounts().first?.hasPassword == true)
        let good = try await bench.service.signIn(
            address: "alice@corp.test", password: "correct horse battery", client: "127.0.0.1")
        #expect(good.account.address == "alice@corp.test")
        await #expect(throws: SignInFailure.invalidCredentials) {
            try await bench.service.signIn(
                address: "alice@corp.test", password: "correct horse battery!", client: "127.0.0.1")
        }
        let stored = try bench.vaultFileBytes()
        let holdsPassword = stored.contains(bytes: Array("correct horse battery".utf8))
        #expect(!holdsPassword)
    }

    @Test("operations on an unknown sender fail with senderNotFound")
    func unknownSender() throws {
        let bench = try TestBench()
        #expect(throws: RetractError.senderNotFound("ghost@corp.test")) {
            try bench.service.rotateSenderToken(address: "ghost@corp.test")
        }
        #expect(throws: RetractError.senderNotFound("ghost@corp.test")) {
            try bench.service.removeSender(address: "ghost@corp.test")
        }
        #expect(throws: RetractError.senderNotFound("ghost@corp.test")) {
            try bench.service.setSenderPassword(address: "ghost@corp.test", password: "long enough password")
        }
    }

    @Test("removing a sender ends its token and its web sessions")
    func removeEndsEverything() async throws {
        let bench = try TestBench()
        let (_, token) = try bench.service.addSender(address: "alice@corp.test", name: nil)
        try bench.service.setSenderPassword(address: "alice@corp.test", password: "long enough password")
        let session = try await bench.service.signIn(
            address: "alice@corp.test", password: "long enough password", client: "c")
        try bench.service.removeSender(address: "alice@corp.test")
        #expect(await bench.service.sender(bearerToken: token) == nil)
        #expect(await bench.service.webSession(cookieValue: session.cookieValue) == nil)
        #expect(try bench.service.senderAccounts().isEmpty)
    }

    @Test("the first sender is created only on an empty vault, with a working token and password, and only once")
    func firstSenderOnce() async throws {
        let bench = try TestBench()
        let first = try #require(try bench.service.createFirstSender(address: "admin@localhost"))
        #expect(first.account.hasPassword)
        #expect(await bench.service.sender(bearerToken: first.token)?.address == "admin@localhost")
        let signIn = try await bench.service.signIn(address: "admin@localhost", password: first.password, client: "c")
        #expect(signIn.account.address == "admin@localhost")
        #expect(try bench.service.createFirstSender(address: "admin@localhost") == nil)
        #expect(try bench.service.senderAccounts().map(\.address) == ["admin@localhost"])
    }
}
