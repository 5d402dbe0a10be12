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
