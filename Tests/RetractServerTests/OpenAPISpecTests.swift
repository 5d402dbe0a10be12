import Foundation
import Hummingbird
import OpenAPIKit
import RetractServer
import RetractTestSupport
import Testing
import Yams

@Suite("docs/openapi.yaml is valid OpenAPI 3.1 and describes exactly the routes the server registers")
struct OpenAPISpecTests {
    /// `docs/openapi.yaml`, found from this source file's place in the repository.
    static func specText() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
    }

    static func document() throws -> OpenAPI.Document {
        try YAMLDecoder().decode(OpenAPI.Document.self, from: try specText())
    }

    @Test("the document parses as OpenAPI 3.1 and passes OpenAPIKit's validation")
    func validates() throws {
        let document = try Self.document()
        #expect(document.openAPIVersion == .v3_1_0)
        let warnings = try document.validate(strict: true)
        #expect(warnings.isEmpty, "\(warnings)")
    }

    @Test("every operation is secured by the bearer scheme and declares its problem responses")
    func securityAndProblems() throws {
        let document = try Self.document()
        let scheme = try #require(document.components.securitySchemes["bearerToken"]?.securitySchemeValue)
        #expect(scheme.type == .http(scheme: "bearer", bearerFormat: nil))
        #expect(document.security.count == 1)
        for (path, item) in document.paths {
            let item = try #require(item.pathItemValue)
            for endpoint in item.endpoints {
                let statuses = Set(endpoint.operation.responses.keys.map(\.rawValue))
                #expect(statuses.contains("401"), "\(endpoint.method.rawValue) \(path.rawValue)")
                #expect(statuses.contains("500"), "\(endpoint.method.rawValue) \(path.rawValue)")
                #expect(statuses.contains("429"), "\(endpoint.method.rawValue) \(path.rawValue)")
            }
        }
        let problem = try #require(document.components.schemas["Problem"])
        #expect(problem.objectContext?.requiredProperties.sorted() == ["detail", "status", "title", "type"])
    }

    @Test("the (method, path) pairs under /api/v1 in the router equal those in the spec")
    func routesMatchSpec() async throws {
        let document = try Self.document()
        #expect(document.servers.map(\.urlTemplate.absoluteString) == ["/api/v1"])
        var documented: Set<String> = []
        for (path, item) in document.paths {
            for endpoint in try #require(item.pathItemValue).endpoints {
                documented.insert("\(endpoint.method.rawValue) /api/v1\(path.rawValue)")
            }
        }

        let bench = try TestBench()
        let router = try await buildRouter(service: bench.service)
        let registered = Set(
            router.routes.map { route in
                let path = route.path.description.split(separator: "/").map { segment in
                    segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
                }
                return "\(route.method.rawValue) /\(path.joined(separator: "/"))"
            }
            .filter { $0.split(separator: " ")[1].hasPrefix("/api/v1/") })

        #expect(!registered.isEmpty)
        #expect(
            registered == documented,
            "only in the router: \(registered.subtracting(documented)); only in the spec: \(documented.subtracting(registered))"
        )
    }
}
