import Foundation
import Hummingbird
import HummingbirdTesting
import RetractCore
import RetractServer
import RetractTestSupport

/// The sender used by the web app tests and their password.
enum WebTestAccount {
    static let alice = "alice@corp.test"
    static let bob = "bob@corp.test"
    static let password = "correct horse battery"
}

/// A bench with two senders who have web passwords, and the application built over it.
struct WebFixture {
    let bench: TestBench
    let service: RetractService
    let options: WebAppOptions

    init(
        publicURL: String? = nil, maxUploadBytes: Int = 1 << 20, defaultSendDelay: TimeInterval = 0
    ) throws {
        bench = try TestBench(defaultSendDelay: defaultSendDelay)
        var configuration = bench.configuration
        if let publicURL { configuration.publicURL = publicURL }
        let clock = bench.clock
        service = RetractService(
            configuration: configuration, vault: bench.service.vault, keys: bench.service.keys,
            templates: bench.service.templates, transport: bench.service.transport, now: { clock.now })
        options = WebAppOptions(
            maxUploadBytes: maxUploadBytes, uploadDirectory: bench.root.appendingPathComponent("uploads"))
        for (address, name) in [(WebTestAccount.alice, "Alice"), (WebTestAccount.bob, "Bob")] {
            _ = try service.addSender(address: address, name: name)
            try service.setSenderPassword(address: address, password: WebTestAccount.password)
        }
    }

    /// The real router: reader, API, web app, static files, security headers.
    func app() async throws -> some ApplicationProtocol {
        Application(router: try await buildRouter(service: service, web: options))
    }

    /// Files waiting in the upload folder (kept between check and send).
    func uploadedFiles() -> [String] {
        let root = options.uploadDirectory!
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }
    }
}

/// A very small browser over the test client: keeps cookies, reads hidden fields, posts
/// forms the way a browser does.
struct WebTestBrowser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var acceptLanguage = "en"
    /// Fields sent with every request (a proxy's `X-Forwarded-For`).
    var extraHeaders: HTTPFields = [:]

    init(_ client: any TestClientProtocol, extraHeaders: HTTPFields = [:]) {
        self.client = client
        self.extraHeaders = extraHeaders
    }

    /// Performs a request with the cookie jar and stores the cookies the answer sets.
    mutating func request(
        _ uri: String, method: HTTPRequest.Method = .get, headers extra: HTTPFields = [:], body: ByteBuffer? = nil
    ) async throws -> TestResponse {
        var headers = extra
        headers.append(contentsOf: extraHeaders)
        headers[.acceptLanguage] = acceptLanguage
        if !cookies.isEmpty {
            headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: "; ")
        }
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
        for line in response.headers[values: .setCookie] {
            let pair = line.split(separator: ";")[0].split(
                separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            let name = String(pair[0])
            if line.lowercased().contains("max-age=0") || pair[1].isEmpty {
                cookies[name] = nil
            } else {
                cookies[name] = String(pair[1])
            }
        }
        return response
    }

    /// GET returning the page's HTML.
    mutating func page(_ uri: String) async throws -> (TestResponse, String) {
        let response = try await request(uri)
        return (response, String(buffer: response.body))
    }

    /// POSTs a URL-encoded form.
    mutating func post(_ uri: String, _ fields: [(String, String)]) async throws -> TestResponse {
        let body = fields.map { "\(Self.formEscape($0.0))=\(Self.formEscape($0.1))" }.joined(separator: "&")
        return try await request(
            uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: body))
    }

    /// POSTs a multipart form with files.
    mutating func postMultipart(
        _ uri: String, _ fields: [(String, String)], files: [(field: String, name: String, bytes: [UInt8])] = []
    ) async throws -> TestResponse {
        let boundary = "----retract-test-\(UUID().uuidString)"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for file in files {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    .utf8)
            body += file.bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return try await request(
            uri, method: .post, headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
            body: ByteBuffer(bytes: body))
    }

    /// Signs in through the sign-in page.
    mutating func signIn(_ address: String = WebTestAccount.alice, password: String = WebTestAccount.password)
        async throws -> TestResponse
    {
        let (_, html) = try await page("/app/sign-in")
        let token = Self.hidden("csrf", in: html) ?? ""
        return try await post("/app/sign-in", [("csrf", token), ("address", address), ("password", password)])
    }

    /// The CSRF token the signed-in pages carry.
    mutating func csrf() async throws -> String {
        let (_, html) = try await page("/app/compose")
        return Self.hidden("csrf", in: html) ?? ""
    }

    /// The value of the first `<input type="hidden" name="…">` with that name.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "type=\"hidden\" name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end]).replacingOccurrences(of: "&amp;", with: "&")
    }

    static func formEscape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? ""
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }
}

/// Whether a page has any inline script, inline style or inline event handler (the CSP
/// would block them, so a page that has one is broken).
func hasInlineCode(_ html: String) -> Bool {
    let lowered = html.lowercased()
    let scriptWithoutSource = lowered.components(separatedBy: "<script").dropFirst().contains { !$0.hasPrefix(" src=") }
    let handler = lowered.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) != nil
    return scriptWithoutSource || lowered.contains("<style") || lowered.contains(" style=") || handler
        || lowered.contains("javascript:")
}
