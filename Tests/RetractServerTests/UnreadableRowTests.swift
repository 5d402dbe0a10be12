import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport
import Testing

/// One value written straight into the vault with SQLite, behind Retract's back: a date or
/// an enum column that no longer decodes (the kind of row an old bug planted: an expiry in
/// the year 506713 stored as an empty date).
struct PlantedValue: Sendable, CustomTestStringConvertible {
    var table: String
    var column: String
    var value: String
    /// `update`: SET the column on the rows of the bad message; `insert`: a whole row.
    var sql: String

    var testDescription: String { "\(table).\(column) = \(value)" }

    static func update(_ table: String, _ column: String, _ value: String = "''", key: String = "message_id")
        -> PlantedValue
    {
        let filter = table == "messages" ? "id = :bad" : "\(key) = :bad"
        return PlantedValue(
            table: table, column: column, value: value, sql: "UPDATE \(table) SET \(column) = \(value) WHERE \(filter)")
    }

    /// Every date and enum column of every table, each given a value that does not decode.
    static let all: [PlantedValue] = [
        .update("messages", "created_at"), .update("messages", "expires_at"),
        .update("messages", "deliver_after"), .update("messages", "expires_at", "'not a date'"),
        .update("messages", "verify", "'maybe'"),
        .update("grants", "kind", "'boss'"), .update("grants", "first_opened_at"),
        .update("grants", "last_opened_at"), .update("grants", "revoked_at", "'yesterday'"),
        .update("outbox", "not_before"), .update("outbox", "created_at"), .update("outbox", "sent_at", "'x'"),
        .update("outbox", "claimed_at", "'x'"), .update("outbox", "kind", "'postcard'"),
        .update("outbox", "state", "'lost'"),
        PlantedValue(
            table: "access_events", column: "at + result", value: "'' / 'bogus'",
            sql: """
                INSERT INTO access_events (grant_id, token_hash, at, result)
                SELECT id, token_hash, '', 'bogus' FROM grants WHERE message_id = :bad
                """),
        PlantedValue(
            table: "verification_codes", column: "every date", value: "''",
            sql: """
                INSERT INTO verification_codes (grant_id, code_hash, issued_at, expires_at, locked_until, verified_until)
                SELECT id, X'00', '', 'x', 'y', 'z' FROM grants WHERE message_id = :bad
                """),
        PlantedValue(
            table: "rate_limit_events", column: "at", value: "''",
            sql: "INSERT INTO rate_limit_events (scope, subject, at) VALUES ('open-client', '127.0.0.1', '')"),
        PlantedValue(
            table: "senders", column: "created_at + token_created_at + password_set_at", value: "''",
            sql: """
                UPDATE senders SET created_at = '', token_created_at = 'x', password_set_at = 'y'
                WHERE address = 'mallory@corp.test'
                """),
        PlantedValue(
            table: "web_sessions", column: "created_at + last_seen_at", value: "''",
            sql: """
                INSERT INTO web_sessions (id_hash, sender, created_at, last_seen_at, locale)
                VALUES (X'0102', 'alice@corp.test', '', 'x', 'en')
                """),
    ]
}

@Suite("A vault row that does not decode never stops the service")
struct UnreadableRowTests {
    @Test(
        "an undecodable date or enum in any table leaves reader, API, worker and status working for every other message",
        arguments: PlantedValue.all)
    func plantedValue(_ planted: PlantedValue) async throws {
        // Given two messages still held by their undo window, and one bad value planted in
        // the first one's rows (or in a table beside them)
        let api = try APITestBench()
        let service = api.service
        func send(_ subject: String) async throws -> (id: String, token: String, key: String) {
            let receipt = try await service.send(
                Draft(
                    from: APITestBench.aliceAddress, to: ["bob@partner.test"], subject: subject, body: "Body of \(subject)",
                    delay: 60))
            let link = try #require(receipt.recipients.first?.link)
            let path = try #require(link.split(separator: "/m/").last).split(separator: "#")
            return (receipt.messageID, String(path[0]), String(path[1]))
        }
        let bad = try await send("Bad row")
        let good = try await send("Good row")
        try plant(planted, badMessage: bad.id, in: api.bench)

        // When every reader of the vault runs over it
        try await api.app().test(.router) { client in
            // Then the reader answers for both links (the bad one without a 200), the good one opens
            // (its own row unreadable, the link is unknown: 404; a bad row elsewhere leaves it 200)
            try await client.execute(uri: "/m/\(bad.token)", method: .get) { response in
                #expect([.ok, .notFound].contains(response.status))
            }
            try await client.execute(uri: "/m/\(good.token)", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(
                uri: "/m/\(good.token)/open", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"key\":\"\(good.key)\"}")
            ) { response in
                #expect(response.status == .ok)
            }
            // the sender's list still answers and holds the good message
            try await client.execute(uri: "/api/v1/messages", method: .get, headers: APITestBench.json(api.alice)) {
                response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(good.id))
            }
            try await client.execute(
                uri: "/api/v1/messages/\(good.id)", method: .get, headers: APITestBench.json(api.alice)
            ) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(
                uri: "/api/v1/messages/\(bad.id)", method: .get, headers: APITestBench.json(api.alice)
            ) { response in
                #expect([.ok, .internalServerError].contains(response.status))
                #expect(!String(buffer: response.body).contains("Swift"))
            }
        }
        // the worker delivers the good message's notification once the window is over
        api.bench.clock.advance(120)
        _ = await service.deliverDueMail()
        _ = await service.deliverDueMail()
        let delivered = try api.bench.deliveredMail()
        #expect(delivered.contains { $0.header("Subject")?.contains("Good row") == true })
        // the CLI's views (list, status, outbox) read past it, and the good message revokes
        #expect(try service.list(sender: APITestBench.aliceAddress).contains { $0.id == good.id })
        _ = try service.outbox()
        _ = try service.status(messageID: good.id)
        let report = try await service.revoke(RevokeRequest(messageID: good.id, reason: "test"))
        #expect(report.recipients.count == 1)
    }

    @Test(
        "the web app's sent list and the good message's page still answer over a planted value",
        arguments: PlantedValue.all.filter { ["messages", "grants", "outbox", "access_events"].contains($0.table) })
    func webApp(_ planted: PlantedValue) async throws {
        // Given a bad and a good message of Alice's, and the bad one's rows damaged
        let fixture = try WebFixture()
        var ids: [String] = []
        for subject in ["Bad row", "Good row"] {
            ids.append(
                try await fixture.service.send(
                    Draft(
                        from: WebTestAccount.alice, to: ["bob@partner.test"], subject: subject, body: "b", delay: 60)
                ).messageID)
        }
        try plant(planted, badMessage: ids[0], in: fixture.bench)
        let (badID, goodID) = (ids[0], ids[1])
        // When she signs in and looks at her messages
        try await fixture.app().test(.router) { client in
            var browser = WebTestBrowser(client)
            _ = try await browser.signIn()
            let (list, listText) = try await browser.page("/app/messages")
            // Then the list and the good message answer; the bad one is never a crash
            #expect(list.status == .ok)
            #expect(listText.contains(goodID))
            let (good, _) = try await browser.page("/app/messages/\(goodID)")
            #expect(good.status == .ok)
            // the bad message's own page: shown, unknown, or the one clear 500, never a trace
            let (bad, badText) = try await browser.page("/app/messages/\(badID)")
            #expect([.ok, .notFound, .internalServerError].contains(bad.status))
            #expect(!badText.contains("Fatal") && !badText.contains("GRDB"))
        }
    }

    /// Writes the planted value with a connection of its own, with CHECK constraints off (as
    /// a hand edit or an older schema could leave it).
    private func plant(_ planted: PlantedValue, badMessage: String, in bench: TestBench) throws {
        let path = bench.configuration.dataDirectory.appendingPathComponent("vault.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: planted.sql, arguments: ["bad": badMessage])
            #expect(db.changesCount > 0, "the planted value must land in some row")
        }
    }
}
