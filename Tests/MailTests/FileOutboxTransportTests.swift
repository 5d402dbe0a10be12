import Foundation
import Testing

@testable import Mail

@Suite("File outbox transport")
struct FileOutboxTransportTests {
    private let envelope = MailEnvelope(mailFrom: "retract@localhost", recipients: ["bob@example.org"])

    private func permissions(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test("a delivery writes <id>.eml with mode 0600 in a directory it creates with mode 0700")
    func writesFile() async throws {
        let root = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let outbox = root.appendingPathComponent("data/outbox")
        let transport = FileOutboxTransport(directory: outbox)
        let bytes = try Fixtures.message().rendered()

        try await transport.deliver(bytes, envelope: self.envelope, id: "msg_01-ABC")

        let file = outbox.appendingPathComponent("msg_01-ABC.eml")
        #expect(try transport.fileURL(for: "msg_01-ABC") == file)
        #expect(FileManager.default.contents(atPath: file.path).map(Array.init) == bytes)
        #expect(try self.permissions(file) == 0o600)
        #expect(try self.permissions(outbox) == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.path) == ["msg_01-ABC.eml"])
    }

    @Test("delivering the same id again replaces the file and leaves no temporary files")
    func redelivery() async throws {
        let root = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let transport = FileOutboxTransport(directory: root)
        try await transport.deliver(Array("first\r\n".utf8), envelope: self.envelope, id: "same")
        try await transport.deliver(Array("second\r\n".utf8), envelope: self.envelope, id: "same")
        let file = root.appendingPathComponent("same.eml")
        #expect(FileManager.default.contents(atPath: file.path) == Data("second\r\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["same.eml"])
    }

    @Test(
        "an id that could escape the directory or is not [A-Za-z0-9_-]{1,64} is rejected",
        arguments: [
            "", "../evil", "a/b", "a.b", "id with space", "ünï", "x\n", String(repeating: "a", count: 65), ".hidden",
        ])
    func rejectsBadID(id: String) async throws {
        let root = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let transport = FileOutboxTransport(directory: root.appendingPathComponent("outbox"))
        await #expect(throws: MailError.invalidDeliveryID) {
            try await transport.deliver(Array("x".utf8), envelope: self.envelope, id: id)
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("outbox").path))
    }

    @Test("a 64-character id is accepted")
    func longestID() async throws {
        let root = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let id = String(repeating: "a", count: 64)
        try await FileOutboxTransport(directory: root).deliver(Array("x".utf8), envelope: self.envelope, id: id)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("\(id).eml").path))
    }

    @Test("an outbox path that is a file fails with a delivery error")
    func outboxIsAFile() async throws {
        let root = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let blocker = root.appendingPathComponent("outbox")
        try Data("not a directory".utf8).write(to: blocker)
        await #expect(throws: MailError.deliveryFailed) {
            try await FileOutboxTransport(directory: blocker).deliver(Array("x".utf8), envelope: self.envelope, id: "a")
        }
    }
}
