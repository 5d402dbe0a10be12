import Foundation
import RetractCore
import RetractTestSupport
import Testing

@testable import RetractServer

@Suite("Upload directories and the upload limit")
struct UploadDirectoryTests {
    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("uploads-\(UUID().uuidString)")
    }

    @Test("each request gets its own 0700 folder under the root, and remove() deletes it with its files")
    func requestFolders() throws {
        let root = Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try UploadDirectory(root: root, staging: UploadStaging())
        let second = try UploadDirectory(root: root, staging: UploadStaging())
        #expect(first.url != second.url)
        #expect(first.url.deletingLastPathComponent().lastPathComponent == root.lastPathComponent)
        let mode = try FileManager.default.attributesOfItem(atPath: first.url.path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        let file = try first.createFile(named: "a.txt")
        try Array("hi".utf8).withUnsafeBytes { try file.write($0) }
        try file.close()
        first.remove()
        #expect(!FileManager.default.fileExists(atPath: first.url.path))
        #expect(FileManager.default.fileExists(atPath: second.url.path))
    }

    @Test("at start every staged upload an earlier process left is removed, young or old")
    func leftoversRemovedAtStart() async throws {
        // Given upload folders a killed process left (one a second old)
        let bench = try TestBench()
        let root = UploadDirectory.root(dataDirectory: bench.configuration.dataDirectory)
        let earlier = try UploadDirectory(root: root, staging: UploadStaging())
        let file = try earlier.createFile(named: "payroll.xlsx")
        try Array("salaries".utf8).withUnsafeBytes { try file.write($0) }
        try file.close()
        // When the service starts (builds its router)
        _ = try await buildRouter(service: bench.service)
        // Then nothing of it is left
        #expect(!FileManager.default.fileExists(atPath: earlier.url.path))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: root.path))?.isEmpty ?? true)
    }

    @Test("RETRACT_MAX_UPLOAD sizes: bytes or K/M/G in powers of 1024; anything else is nil")
    func byteSizes() {
        #expect(RetractConfiguration.byteSize("1048576") == 1 << 20)
        #expect(RetractConfiguration.byteSize("512k") == 512 << 10)
        #expect(RetractConfiguration.byteSize(" 25M ") == 25 << 20)
        #expect(RetractConfiguration.byteSize("1G") == 1 << 30)
        #expect(RetractConfiguration.byteSize("0") == nil)
        #expect(RetractConfiguration.byteSize("-5M") == nil)
        #expect(RetractConfiguration.byteSize("lots") == nil)
        #expect(RetractConfiguration.byteSize("99999999999G") == nil)
        #expect(RetractConfiguration().maxUploadSize == 100 << 20)
    }
}
