import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport

/// Two senders on one fresh vault and the real application's router, for the API tests.
struct APITestBench {
    let bench: TestBench
    /// Alice's API token.
    let alice: String
    /// Mallory's API token: another sender on the same server.
    let mallory: String
    let uploadLimit: Int

    static let aliceAddress = "alice@corp.test"

    init(defaultSendDelay: TimeInterval = 0, uploadLimit: Int = 1 << 20) throws {
        bench = try TestBench(defaultSendDelay: defaultSendDelay)
        alice = try bench.service.addSender(address: Self.aliceAddress, name: "Alice Example").token
        mallory = try bench.service.addSender(address: "mallory@corp.test", name: nil).token
        self.uploadLimit = uploadLimit
    }

    var service: RetractService { bench.service }

    /// The application as `retract serve` builds its router.
    func app() async throws -> some ApplicationProtocol {
        Application(router: try await buildRouter(service: bench.service, apiUploadLimit: uploadLimit))
    }

    /// Files left in the API's upload folder (must be none once a request is answered).
    func leftoverUploads() -> [String] {
        let folder = bench.configuration.dataDirectory.appendingPathComponent("uploads")
        let walker = FileManager.default.enumerator(atPath: folder.path)
        var files: [String] = []
        while let path = walker?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { files.append(path) }
        }
        return files
    }

    /// Headers of an authenticated JSON request.
    static func json(_ token: String?) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let token { fields[.authorization] = "Bearer \(token)" }
        return fields
    }

    /// A JSON body.
    static func body(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    /// A response body as a JSON object (empty when it is not one).
    static func object(_ buffer: ByteBuffer?) -> [String: Any] {
        guard let buffer, let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]
        else { return [:] }
        return object
    }
}

/// A `multipart/form-data` body built by hand, as a browser or curl sends it.
struct MultipartBody {
    let boundary = "retract-test-boundary-7MA4YWxkTrZu0gW"
    var bytes: [UInt8] = []

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func field(_ name: String, _ value: String) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func file(_ name: String, fileName: String, _ content: [UInt8]) {
        bytes += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(fileName)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                .utf8)
        bytes += content + Array("\r\n".utf8)
    }

    /// The body with its closing boundary.
    var closed: ByteBuffer { ByteBuffer(bytes: bytes + Array("--\(boundary)--\r\n".utf8)) }

    /// Headers of an authenticated multipart request.
    func headers(_ token: String) -> HTTPFields {
        [.contentType: contentType, .authorization: "Bearer \(token)"]
    }
}
