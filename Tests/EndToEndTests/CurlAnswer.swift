import Foundation
import RetractTestSupport

/// One answer as curl saw it: the status and the header fields (names lowercased).
struct CurlAnswer {
    var status = 0
    var headers: [String: String] = [:]
    var body = ""

    /// A 429 with a `Retry-After` of whole seconds inside the 15-minute window.
    var isLimited: Bool {
        guard status == 429, let seconds = headers["retry-after"].flatMap({ Int($0) }) else { return false }
        return seconds > 0 && seconds <= 15 * 60
    }

    /// One request with curl, its connection made from `source` (any 127/8 address is
    /// loopback); the response head is written to a file in `scratch` and removed.
    static func request(
        _ url: String, from source: String, method: String = "GET", headers: [String] = [], body: String? = nil,
        scratch: URL
    ) throws -> CurlAnswer {
        let headerFile = scratch.appendingPathComponent("headers-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: headerFile) }
        var arguments = ["-s", "--interface", source, "-X", method, "-D", headerFile.path]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["--data-binary", body] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments + [url]
        let out = Pipe()
        process.standardOutput = out
        try process.runSafely()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var answer = CurlAnswer(body: String(decoding: data, as: UTF8.self))
        let lines = (try? String(contentsOf: headerFile, encoding: .utf8))?.components(separatedBy: "\r\n") ?? []
        answer.status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            answer.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        return answer
    }
}
