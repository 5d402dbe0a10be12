import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing
import Vault

@testable import RetractCore

@Suite("Failed opens are limited per client address, and the limit survives a restart")
struct VerificationOpenClientLimitTests {
    let attacker = "203.0.113.7"
    let bystander = "198.51.100.20"

    func failure(_ body: () async throws -> Void) async -> OpenFailure? {
        do {
            try await body()
            return nil
        } catch {
            return error as? OpenFailure
        }
    }

    /// A second service over the same data and keys directories: what a restart gives.
    func restarted(_ bench: TestBench) throws -> RetractService {
        RetractService(
            configuration: bench.configuration,
            vault: try VaultDatabase.open(directory: bench.configuration.dataDirectory),
            keys: try KeyDirectory(url: bench.configuration.keysDirectory).load(), templates: try MailTemplates(),
            transport: FileOutboxTransport(directory: bench.configuration.outboxDirectory), now: { bench.clock.now })
    }

    /// Sends one message per recipient so that wrong keys spread over many links (each under
    /// the per-link limit of 10).
    func links(_ bench: TestBench, count: Int) async throws -> [Link] {
        let receipt = try await bench.service.send(
            Draft(
                from: "alice@corp.test", to: (0..<count).map { "r\($0)@partner.test" }, subject: "S", body: "B"))
        return try receipt.recipients.map { try Link.parse($0.link) }
    }

    @Test("30 failed opens from one address make every link answer 429 to that address, even with the right key")
    func limitHolds() async throws {
        let bench = try TestBench()
        let links = try await links(bench, count: 5)
        for index in 0..<RetractService.openClientFailureLimit {
            let link = links[index % 4]
            let answer = await failure {
                _ = try await bench.service.open(token: link.token, linkKey: LinkKey.generate(), client: attacker)
            }
            #expect(answer == .invalidKey)
        }
        let blocked = await failure {
            _ = try await bench.service.open(token: links[4].token, linkKey: links[4].linkKey, client: attacker)
        }
        #expect(blocked == .tooManyAttempts(retryAfter: Int(RetractService.openClientWindow)))
        let other = try await bench.service.open(token: links[4].token, linkKey: links[4].linkKey, client: bystander)
        #expect(other.envelope.subject == "S")
    }

    @Test("unknown links count toward the client limit like wrong keys")
    func unknownTokensCount() async throws {
        let bench = try TestBench()
        let links = try await links(bench, count: 1)
        for _ in 0..<RetractService.openClientFailureLimit {
            _ = await failure {
                _ = try await bench.service.open(
                    token: GrantToken.random(), linkKey: LinkKey.generate(), client: attacker)
            }
        }
        let blocked = await failure {
            _ = try await bench.service.open(token: links[0].token, linkKey: links[0].linkKey, client: attacker)
        }
        #expect(blocked == .tooManyAttempts(retryAfter: Int(RetractService.openClientWindow)))
    }

    @Test("the client limit holds across reopening the vault, and lifts once the window has passed")
    func survivesRestart() async throws {
        let clock = TestClock()
        let bench = try TestBench(clock: clock)
        let links = try await links(bench, count: 4)
        for index in 0..<RetractService.openClientFailureLimit {
            let link = links[index % 3]
            _ = await failure {
                _ = try await bench.service.open(token: link.token, linkKey: LinkKey.generate(), client: attacker)
            }
        }
        let service = try restarted(bench)
        let blocked = await failure {
            _ = try await service.open(token: links[3].token, linkKey: links[3].linkKey, client: attacker)
        }
        #expect(blocked == .tooManyAttempts(retryAfter: Int(RetractService.openClientWindow)))

        clock.advance(RetractService.openClientWindow + 1)
        let opened = try await service.open(token: links[3].token, linkKey: links[3].linkKey, client: attacker)
        #expect(opened.envelope.bodyText == "B")
    }

    @Test("wrong verification codes count toward the client limit too")
    func wrongCodesCount() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(
                from: "alice@corp.test", to: (0..<8).map { "r\($0)@partner.test" }, subject: "S", body: "B",
                verify: true))
        let links = try receipt.recipients.map { try Link.parse($0.link) }
        var failures = 0
        // Four wrong codes per link stays under each grant's lock of five.
        for link in links.prefix(7) where failures < RetractService.openClientFailureLimit {
            for _ in 0..<4 where failures < RetractService.openClientFailureLimit {
                let answer = await failure {
                    _ = try await bench.service.open(
                        token: link.token, linkKey: link.linkKey, code: "12345x", client: attacker)
                }
                #expect(answer?.code == "invalid_code")
                failures += 1
            }
        }
        for link in links.prefix(2) {
            for _ in 0..<2 {
                _ = await failure {
                    _ = try await bench.service.open(token: link.token, linkKey: LinkKey.generate(), client: attacker)
                }
            }
        }
        let blocked = await failure {
            _ = try await bench.service.open(token: links[7].token, linkKey: links[7].linkKey, client: attacker)
        }
        #expect(blocked == .tooManyAttempts(retryAfter: Int(RetractService.openClientWindow)))
    }

    @Test("opens without a client address (the command line) are limited per link only, never per client")
    func noClientNoLimit() async throws {
        let bench = try TestBench()
        let links = try await links(bench, count: 6)
        for index in 0..<(RetractService.openClientFailureLimit + 5) {
            let link = links[index % 5]
            _ = await failure { _ = try await bench.service.open(token: link.token, linkKey: LinkKey.generate()) }
        }
        let opened = try await bench.service.open(token: links[5].token, linkKey: links[5].linkKey)
        #expect(opened.envelope.bodyText == "B")
    }
}
