import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Plain HTTP on loopback, as a browser or script would speak it.
enum HTTP {
    static func get(_ url: String) async throws -> (Int, Data, [String: String]) {
        try await send(URLRequest(url: URL(string: url)!))
    }

    static func postJSON(_ url: String, _ object: [String: String]) async throws -> (Int, Data, [String: String]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: object)
        return try await send(request)
    }

    /// One API call with a sender's bearer token; the status and the JSON object answered.
    static func api(
        _ method: String, _ url: String, token: String, contentType: String? = nil, body: Data? = nil
    ) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        request.httpBody = body
        let (status, data, _) = try await send(request)
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    private static func send(_ request: URLRequest) async throws -> (Int, Data, [String: String]) {
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            headers[String(describing: key).lowercased()] = String(describing: value)
        }
        return (http.statusCode, data, headers)
    }
}

/// A client that keeps cookies and does not follow redirects, for the web app's forms over
/// real HTTP (the way a browser without JavaScript would post them).
final class HTTPFormClient: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    private var cookies: [String: String] = [:]
    private lazy var session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        return URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }()

    /// Redirects are answers to look at, not to follow.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    /// GET with the cookies; the status, the body as text and the `Location`, if any.
    func get(_ url: String) async throws -> (status: Int, text: String, location: String?) {
        try await send(URLRequest(url: URL(string: url)!))
    }

    /// POSTs a URL-encoded form with the cookies.
    func post(_ url: String, _ fields: [(String, String)]) async throws -> (
        status: Int, text: String, location: String?
    ) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let allowed = CharacterSet.alphanumerics.union(.init(charactersIn: "-._~"))
        request.httpBody = Data(
            fields.map {
                "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)"
            }.joined(separator: "&").utf8)
        return try await send(request)
    }

    /// The values of the cookies the server set so far.
    var cookieValues: [String] { Array(cookies.values) }

    /// The value of the first hidden input with that name.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "type=\"hidden\" name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    private func send(_ request: URLRequest) async throws -> (status: Int, text: String, location: String?) {
        var request = request
        if !cookies.isEmpty {
            request.setValue(
                cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "),
                forHTTPHeaderField: "Cookie")
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        for (key, value) in http.allHeaderFields where String(describing: key).lowercased() == "set-cookie" {
            // Foundation joins several Set-Cookie fields with ", "; cookie values here never hold commas.
            for line in String(describing: value).components(separatedBy: ", ") {
                let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                cookies[String(pair[0])] = String(pair[1])
            }
        }
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Location"))
    }
}
