import Foundation
import RetractTestSupport
import Testing

@testable import RetractCore

@Suite("Web sign-in, sessions and sign-in limits", .serialized)
struct SenderSignInTests {
    static let password = "correct horse battery"

    func benchWithAlice() throws -> TestBench {
        let bench = try TestBench()
        _ = try bench.service.addSender(address: "alice@corp.test", name: "Alice")
        try bench.service.setSenderPassword(address: "alice@corp.test", password: Self.password)
        return bench
    }

    func failure(_ body: () async throws(SignInFailure) -> WebSignIn) async -> SignInFailure? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test("an unknown address is refused exactly like a wrong password")
    func unknownAddressLooksLikeWrongPassword() async throws {
        let bench = try benchWithAlice()
        let unknown = await failure { () throws(SignInFailure) in
            try await bench.service.signIn(address: "mallory@corp.test", password: Self.password, client: "10.0.0.1")
        }
        let wrong = await failure { () throws(SignInFailure) in
            try await bench.service.signIn(address: "alice@corp.test", password: "not the password", client: "10.0.0.1")
        }
        #expect(unknown == .invalidCredentials)
        #expect(wrong == .invalidCredentials)
    }

    @Test(
        "the 6th failed sign-in within 15 minutes is refused with tooManyAttempts, even with the right password and after a restart"
    )
    func sixthFailureIsRateLimited() async throws {
        // Given five failures
        let bench = try benchWithAlice()
        for attempt in 1...5 {
            let result = await failure { () throws(SignInFailure) in
                try await bench.service.signIn(
                    address: "alice@corp.test", password: "guess \(attempt) wrong", client: "10.0.0.\(attempt)")
            }
            #expect(result == .invalidCredentials)
        }
        bench.clock.advance(60)
        // When the sixth comes, from yet another client and with the right password
        let sixth = await failure { () throws(SignInFailure) in
            try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "10.0.0.6")
        }
        // Then it is refused until the first failure leaves the 15-minute window
        #expect(sixth == .tooManyAttempts(retryAfter: 15 * 60 - 60))
        // And a restarted service over the same vault still refuses
        let restarted = try bench.restartedService()
        let afterRestart = await failure { () throws(SignInFailure) in
            try await restarted.signIn(address: "ALICE@corp.test", password: Self.password, client: "10.0.0.7")
        }
        #expect(afterRestart == .tooManyAttempts(retryAfter: 15 * 60 - 60))
        // And once the window has passed the right password works again
        bench.clock.advance(15 * 60)
        let signIn = try await restarted.signIn(address: "alice@corp.test", password: Self.password, client: "10.0.0.8")
        #expect(signIn.account.address == "alice@corp.test")
    }

    @Test("ten concurrent wrong guesses at one account get five tries, the other five are refused with tooManyAttempts")
    func concurrentGuessesAreCounted() async throws {
        let bench = try benchWithAlice()
        let service = bench.service
        let results = await withTaskGroup(of: SignInFailure?.self) { group in
            for index in 0..<10 {
                group.addTask {
                    do {
                        _ = try await service.signIn(
                            address: "alice@corp.test", password: "guess number \(index)", client: "10.1.0.\(index)")
                        return nil
                    } catch {
                        return error as? SignInFailure
                    }
                }
            }
            var all: [SignInFailure?] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.filter { $0 == .invalidCredentials }.count == 5)
        #expect(results.filter { $0 == .tooManyAttempts(retryAfter: 15 * 60) }.count == 5)
    }

    @Test("the 21st failed sign-in from one client address is refused, whatever the account")
    func perClientLimit() async throws {
        let bench = try benchWithAlice()
        for index in 1...20 {
            let result = await failure { () throws(SignInFailure) in
                try await bench.service.signIn(
                    address: "nobody\(index)@corp.test", password: "wrong password", client: "192.0.2.9")
            }
            #expect(result == .invalidCredentials)
        }
        let refused = await failure { () throws(SignInFailure) in
            try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "192.0.2.9")
        }
        #expect(refused == .tooManyAttempts(retryAfter: 15 * 60))
        let elsewhere = try await bench.service.signIn(
            address: "alice@corp.test", password: Self.password, client: "192.0.2.10")
        #expect(elsewhere.account.address == "alice@corp.test")
    }

    /// Runs `count` password verifications that each signal `entered`, then wait (up to
    /// 30 s, so a regression fails instead of hanging) for `release`; whether each was released.
    func blockLanes(
        _ count: Int, of work: PasswordWork, entered: DispatchSemaphore, release: DispatchSemaphore
    ) -> Task<[Bool], Never> {
        Task {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<count {
                    group.addTask {
                        await work.run {
                            entered.signal()
                            return release.wait(timeout: .now() + 30) == .success
                        } ?? false
                    }
                }
                var released: [Bool] = []
                for await result in group { released.append(result) }
                return released
            }
        }
    }

    @Test("two password verifications run at the same time")
    func twoVerificationsAtOnce() async {
        // Given two verifications that each wait for the other to have started
        let started = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let work = PasswordWork()

        // When both are run
        let met = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<2 {
                group.addTask {
                    await work.run {
                        started[index].signal()
                        return started[1 - index].wait(timeout: .now() + 30) == .success
                    } ?? false
                }
            }
            var all: [Bool] = []
            for await result in group { all.append(result) }
            return all
        }

        // Then each saw the other one running
        #expect(met == [true, true])
    }

    @Test("a client at its limit is refused at once, without a verification and without waiting for those running")
    func limitedClientCostsNoVerification() async throws {
        // Given a client with 20 failed sign-ins
        let bench = try benchWithAlice()
        for index in 1...RetractService.signInLimitPerClient {
            _ = await failure { () throws(SignInFailure) in
                try await bench.service.signIn(
                    address: "nobody\(index)@corp.test", password: "wrong password", client: "192.0.2.77")
            }
        }
        // and both verification lanes busy until the test lets them go
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let blockers = blockLanes(2, of: bench.service.passwordWork, entered: entered, release: release)
        for _ in 0..<2 { _ = entered.wait(timeout: .now() + 30) }

        // When the client tries once more, with the right password
        let refused = await failure { () throws(SignInFailure) in
            try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "192.0.2.77")
        }
        release.signal()
        release.signal()

        // Then it was refused while both lanes were still held: it needed none of them
        #expect(refused == .tooManyAttempts(retryAfter: 15 * 60))
        #expect(await blockers.value == [true, true])
    }

    @Test("a session lives while used and ends after sessionIdleTimeout without a request")
    func idleExpiry() async throws {
        let bench = try benchWithAlice()
        #expect(bench.configuration.sessionIdleTimeout == 30 * 60)
        let signIn = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        bench.clock.advance(29 * 60)
        #expect(await bench.service.webSession(cookieValue: signIn.cookieValue)?.account == signIn.account)
        bench.clock.advance(29 * 60)
        #expect(await bench.service.webSession(cookieValue: signIn.cookieValue) != nil)
        bench.clock.advance(30 * 60 + 1)
        #expect(await bench.service.webSession(cookieValue: signIn.cookieValue) == nil)
        bench.clock.advance(-(30 * 60 + 1))
        #expect(
            await bench.service.webSession(cookieValue: signIn.cookieValue) == nil,
            "an expired session is gone for good")
    }

    @Test("a session's activity is written at most once a minute, not on every request")
    func activityWrittenOncePerMinute() async throws {
        let bench = try benchWithAlice()
        let signIn = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        func lastSeen() throws -> Date? {
            try bench.service.vault.webSession(idHash: Data(RetractService.sessionIDHash(
                #require(RetractService.sessionSecret(signIn.cookieValue)))))?.session.lastSeenAt
        }
        let start = try #require(try lastSeen())
        bench.clock.advance(30)
        #expect(await bench.service.webSession(cookieValue: signIn.cookieValue) != nil)
        #expect(try lastSeen() == start, "a request within the minute writes nothing")
        bench.clock.advance(31)
        #expect(await bench.service.webSession(cookieValue: signIn.cookieValue) != nil)
        let recorded = try #require(try lastSeen())
        #expect(abs(recorded.timeIntervalSince(bench.clock.now)) < 0.01, "a request after the minute records the activity")
    }

    @Test("the CSRF token is stable within a session and differs between sessions")
    func csrfPerSession() async throws {
        let bench = try benchWithAlice()
        let first = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        let second = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        let state = try #require(await bench.service.webSession(cookieValue: first.cookieValue))
        let again = try #require(await bench.service.webSession(cookieValue: first.cookieValue))
        #expect(state.csrfToken == first.csrfToken)
        #expect(again.csrfToken == first.csrfToken)
        #expect(second.csrfToken != first.csrfToken)
        #expect(second.cookieValue != first.cookieValue)
        #expect(state.accepts(csrfToken: first.csrfToken))
        #expect(!state.accepts(csrfToken: second.csrfToken))
        #expect(!state.accepts(csrfToken: ""))
    }

    @Test("signing out, an unknown cookie and a changed password all leave no session")
    func sessionEnds() async throws {
        let bench = try benchWithAlice()
        let one = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        let two = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        await bench.service.signOut(cookieValue: one.cookieValue)
        #expect(await bench.service.webSession(cookieValue: one.cookieValue) == nil)
        #expect(await bench.service.webSession(cookieValue: two.cookieValue) != nil)
        #expect(await bench.service.webSession(cookieValue: "not-a-cookie") == nil)
        try bench.service.setSenderPassword(address: "alice@corp.test", password: "a brand new password")
        #expect(await bench.service.webSession(cookieValue: two.cookieValue) == nil)
    }

    @Test("the cookie value is stored nowhere in the vault files")
    func cookieNotStored() async throws {
        let bench = try benchWithAlice()
        let signIn = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        let files = try bench.vaultFileBytes()
        let holdsCookie = files.contains(bytes: Array(signIn.cookieValue.utf8))
        let holdsCSRF = files.contains(bytes: Array(signIn.csrfToken.utf8))
        #expect(!holdsCookie)
        #expect(!holdsCSRF)
    }

    @Test("a chosen locale is kept with the session")
    func sessionLocale() async throws {
        let bench = try benchWithAlice()
        let signIn = try await bench.service.signIn(address: "alice@corp.test", password: Self.password, client: "c")
        #expect(await bench.service.webSession(cookieValue: signIn.cookieValue)?.locale == nil)
        await bench.service.setWebSessionLocale(cookieValue: signIn.cookieValue, locale: "zh-Hans")
        #expect(await bench.service.webSession(cookieValue: signIn.cookieValue)?.locale == "zh-Hans")
    }
}
