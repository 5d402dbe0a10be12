import Foundation
import Hummingbird
import Testing

@testable import RetractServer

@Suite("Web app: the streaming multipart reader")
struct WebMultipartTests {
    static let boundary = "----WebKitFormBoundaryRT42"

    /// A body the way Chromium builds it: text fields, a file, an empty file input.
    static func body(file: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        func add(_ text: String) { body += Array(text.utf8) }
        add("--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken-1\r\n")
        add(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nline one\r\n--not a boundary\r\n季度\r\n"
        )
        add(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"../报告 \\\"v2\\\".bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        body += file
        add(
            "\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
        )
        add("--\(boundary)--\r\n")
        return body
    }

    /// Awkward file bytes: CR LF, dashes and most of the delimiter, without ever the whole.
    static let file: [UInt8] =
        Array("\r\n--".utf8) + Array("\r\n--\(boundary)".utf8.dropLast()) + (0..<300).map { UInt8($0 % 256) }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("multipart-\(UUID().uuidString)")
    }

    func read(_ bytes: [UInt8], chunk: Int, limit: Int = 1 << 20, into directory: URL = scratch())
        async throws(MultipartFormReader.Failure) -> (WebForm, URL)
    {
        let reader = MultipartFormReader(
            contentType: "multipart/form-data; boundary=\(Self.boundary)", limit: limit, directory: directory)!
        let chunks = stride(from: 0, to: bytes.count, by: chunk).map {
            ByteBuffer(bytes: bytes[$0..<min($0 + chunk, bytes.count)])
        }
        let stream = AsyncStream<ByteBuffer> { continuation in
            for chunk in chunks { continuation.yield(chunk) }
            continuation.finish()
        }
        return (try await reader.read(RequestBody(asyncSequence: stream)), directory)
    }

    @Test("fields and files come out byte for byte however the body is split", arguments: [1, 2, 5, 13, 64, 100_000])
    func splitAnywhere(chunk: Int) async throws {
        let (form, directory) = try await read(Self.body(file: Self.file), chunk: chunk)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(form["csrf"] == "token-1")
        #expect(form["body"] == "line one\r\n--not a boundary\r\n季度")
        #expect(form.files.count == 1)
        let file = try #require(form.files.first)
        #expect(file.field == "attachments")
        #expect(file.name == "报告 \"v2\".bin")
        #expect(file.size == Self.file.count)
        let written = [UInt8](try Data(contentsOf: file.url))
        let same = written == Self.file
        #expect(same)
    }

    @Test("a body over the limit stops with tooLarge")
    func overLimit() async throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect(throws: MultipartFormReader.Failure.tooLarge) {
            _ = try await read(
                Self.body(file: [UInt8](repeating: 1, count: 10_000)), chunk: 512, limit: 4096, into: directory)
        }
    }

    @Test("a body cut before its closing boundary is malformed")
    func truncated() async throws {
        let whole = Self.body(file: Self.file)
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect(throws: MultipartFormReader.Failure.malformed) {
            _ = try await read(Array(whole.dropLast(30)), chunk: 7, into: directory)
        }
    }

    @Test("a file name keeps only its last path component and never becomes a path")
    func safeFileNames() {
        #expect(MultipartFormReader.safeFileName("C:\\Users\\bob\\q3.xlsx") == "q3.xlsx")
        #expect(MultipartFormReader.safeFileName("../../etc/passwd") == "passwd")
        #expect(MultipartFormReader.safeFileName("..") == "attachment")
        #expect(MultipartFormReader.safeFileName("a\u{0}b\nc.txt") == "abc.txt")
    }
}
