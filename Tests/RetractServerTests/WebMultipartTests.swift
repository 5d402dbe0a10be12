import Foundation
import Hummingbird
import RetractCore
import Sodium
import Testing

@testable import RetractServer

@Suite("The streaming multipart reader (API and web app)")
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

    /// The key the uploads of these tests are staged under.
    static let staging = UploadStaging()

    /// A staged file's plaintext: its nonce, then the content deciphered.
    static func unstaged(_ url: URL) throws -> [UInt8] {
        var bytes = [UInt8](try Data(contentsOf: url))
        let nonce = Array(bytes.prefix(StagingCipher.nonceBytes))
        bytes.removeFirst(StagingCipher.nonceBytes)
        bytes.withUnsafeMutableBytes { staging.cipher(nonce: nonce).apply($0, at: 0) }
        return bytes
    }

    func read(_ bytes: [UInt8], chunk: Int, limit: Int = 1 << 20, into directory: URL = scratch())
        async throws(MultipartFormReader.Failure) -> (WebForm, URL)
    {
        let uploads: UploadDirectory
        do { uploads = try UploadDirectory(root: directory, staging: Self.staging) } catch { throw .storage(UploadError("\(error)")) }
        let reader = MultipartFormReader(
            contentType: "multipart/form-data; boundary=\(Self.boundary)", limit: limit, uploads: uploads)!
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
        let same = try Self.unstaged(file.url) == Self.file
        #expect(same)
        // on disk the file is its nonce and ciphertext: no run of 16 plaintext bytes is there
        let raw = [UInt8](try Data(contentsOf: file.url))
        #expect(raw.count == Self.file.count + StagingCipher.nonceBytes)
        let probe = Array(Self.file.prefix(16))
        #expect(!(0...(raw.count - probe.count)).contains { Array(raw[$0..<($0 + probe.count)]) == probe })
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

    /// A body of the given parts, each a header block and its content, and the closing boundary.
    static func parts(_ parts: [(String, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        for (headers, content) in parts {
            body += Array("--\(boundary)\r\n\(headers)\r\n\r\n".utf8) + content + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    @Test("a text field over maxFieldBytes stops with fieldTooLong naming the field")
    func fieldTooLong() async throws {
        let body = Self.parts([
            ("Content-Disposition: form-data; name=\"subject\"", Array("short".utf8)),
            (
                "Content-Disposition: form-data; name=\"body\"",
                [UInt8](repeating: 65, count: MultipartFormReader.maxFieldBytes + 1)
            ),
        ])
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect(throws: MultipartFormReader.Failure.fieldTooLong("body")) {
            _ = try await read(body, chunk: 64 * 1024, limit: 4 << 20, into: directory)
        }
    }

    @Test("a part without a form-data name, or a text field that is not UTF-8, is refused")
    func badParts() async throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect(throws: MultipartFormReader.Failure.malformed) {
            _ = try await read(Self.parts([("Content-Type: text/plain", Array("x".utf8))]), chunk: 3, into: directory)
        }
        await #expect(throws: MultipartFormReader.Failure.notText("body")) {
            _ = try await read(
                Self.parts([("Content-Disposition: form-data; name=\"body\"", [0xFF, 0xFE, 0x41])]), chunk: 3,
                into: directory)
        }
    }

    @Test("an RFC 8187 filename* wins over filename, and file parts land 0600 in a 0700 folder")
    func extendedNameAndPermissions() async throws {
        let body = Self.parts([
            (
                "Content-Disposition: form-data; name=\"attachment\"; filename=\"plain.txt\"; filename*=UTF-8''na%C3%AFve.txt",
                Array("content".utf8)
            )
        ])
        let (form, directory) = try await read(body, chunk: 5)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try #require(form.files.first)
        #expect(file.name == "naïve.txt")
        #expect(file.field == "attachment")
        let fileMode = try FileManager.default.attributesOfItem(atPath: file.url.path)[.posixPermissions] as? Int
        let folderMode =
            try FileManager.default.attributesOfItem(atPath: file.url.deletingLastPathComponent().path)[
                .posixPermissions] as? Int
        #expect(fileMode == 0o600)
        #expect(folderMode == 0o700)
    }

    @Test("a file name keeps only its last path component and never becomes a path")
    func safeFileNames() {
        #expect(UploadDirectory.safeName("C:\\Users\\bob\\q3.xlsx") == "q3.xlsx")
        #expect(UploadDirectory.safeName("../../etc/passwd") == "passwd")
        #expect(UploadDirectory.safeName("..") == "attachment")
        #expect(UploadDirectory.safeName("a\u{0}b\nc.txt") == "abc.txt")
    }
}
