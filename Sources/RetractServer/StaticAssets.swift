import Foundation
import Hummingbird

/// The pages' own stylesheet and script, loaded once from the bundle and served from memory.
///
/// Nothing external is ever loaded by a page, so the CSP can say `'self'` and nothing else.
struct StaticAssets: Sendable {
    let files: [String: (contentType: String, bytes: ByteBuffer)]

    static func load() throws -> StaticAssets {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Static") else {
            throw RetractServerError("the server's static files are missing from its resources")
        }
        let types = ["css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"]
        var files: [String: (String, ByteBuffer)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            guard let type = types[(name as NSString).pathExtension] else { continue }
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            files[name] = (type, ByteBuffer(bytes: data))
        }
        return StaticAssets(files: files)
    }

    /// The routes under `/static`.
    func addRoutes(to router: Router<some RequestContext>) {
        router.get("static/:name") { _, context -> Response in
            guard let name = context.parameters.get("name"), let file = files[name] else {
                throw HTTPError(.notFound)
            }
            return Response(status: .ok, headers: [.contentType: file.contentType], body: .init(byteBuffer: file.bytes))
        }
    }
}
