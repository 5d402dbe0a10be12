import Foundation
import NIOCore
import Testing

@testable import SMTP

@Suite("SMTP content spool")
struct SMTPContentSpoolTests {
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-spool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("content is stored byte for byte in a file of mode 0600, and counted")
    func storesContent() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try SMTPContentSpool(directory: directory, limit: 1_000_000)
        var expected = Data()
        for index in 0..<5000 {
            let line = "line \(index) of the message\r\n"
            expected.append(contentsOf: line.utf8)
            spool.append(ByteBuffer(string: line))
        }
        guard case .stored(let file, let size) = spool.finish() else {
            Issue.record("not stored")
            return
        }
        #expect(size == Int64(expected.count))
        #expect(try Data(contentsOf: file) == expected)
        let permissions = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        spool.discard()
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test("content over the limit is counted to the end but nothing of it is kept")
    func overLimit() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try SMTPContentSpool(directory: directory, limit: 10)
        spool.append(ByteBuffer(string: "0123456789"))
        spool.append(ByteBuffer(string: "x\r\n"))
        spool.append(ByteBuffer(string: "more\r\n"))
        #expect(spool.finish() == .tooLarge)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("content of exactly the limit is kept")
    func atLimit() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try SMTPContentSpool(directory: directory, limit: 10)
        spool.append(ByteBuffer(string: "0123456789"))
        guard case .stored(_, let size) = spool.finish() else {
            Issue.record("not stored")
            return
        }
        #expect(size == 10)
    }

    @Test("a spool that is dropped without finishing leaves no file")
    func droppedLeavesNothing() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let spool = try SMTPContentSpool(directory: directory, limit: 100)
            spool.append(ByteBuffer(string: "half a message"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a spool directory that does not exist is a spool failure")
    func missingDirectory() {
        #expect(throws: SMTPServerError.spoolFailed) {
            try SMTPContentSpool(directory: URL(fileURLWithPath: "/nonexistent/\(UUID().uuidString)"), limit: 10)
        }
    }
}
