import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client over a blocking socket: one POST, the response body streamed
/// through a 256 KiB buffer, checked against the pattern and dropped.
///
/// The download's memory is measured in the server, so the client must not hold the body;
/// it stands in for `curl -o /dev/null` without needing curl. Only what `retract serve`
/// answers is understood: a `Content-Length` body (chunked encoding is refused).
struct HTTPDownload {
    /// The server's loopback port.
    let port: Int
    /// Seconds a single read may wait before the download is abandoned.
    let readTimeout: Int = 120

    /// What came back.
    struct Result {
        /// The HTTP status code.
        var status: Int
        /// Body bytes received.
        var bodyBytes: Int64
        /// Whether every body byte equalled the pattern.
        var matchesPattern: Bool
        /// The start of the body when the status is not 200, for the error message.
        var errorText: String
    }

    /// POSTs `body` (JSON) to `path` on 127.0.0.1 and streams the answer, calling `progress`
    /// after every 4 MiB of body and once at the end.
    func post(path: String, json body: String, pattern: PatternFile, progress: () -> Void = {}) throws(BenchError)
        -> Result
    {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(POSIX.lastError)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw BenchError("cannot connect to 127.0.0.1:\(port): \(POSIX.lastError)") }

        let request =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        try Array(request.utf8).withBytes { (bytes) throws(BenchError) in
            try POSIX.writeAll(fd, bytes, path: "the socket to 127.0.0.1:\(port)")
        }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var head: [UInt8] = []
        var headerEnd: Int?
        while headerEnd == nil {
            let got = try receive(fd, into: buffer)
            guard got > 0 else { throw BenchError("the server closed the connection before the response headers") }
            head += UnsafeRawBufferPointer(rebasing: buffer[0..<got])
            headerEnd = Self.endOfHeaders(head)
            guard head.count < 64 * 1024 || headerEnd != nil else { throw BenchError("response headers over 64 KiB") }
        }
        let headers = String(decoding: head[0..<headerEnd!], as: UTF8.self).lowercased()
        let status = headers.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        guard !headers.contains("transfer-encoding: chunked") else {
            throw BenchError("the server answered with chunked encoding, which this client does not decode")
        }
        let length = headers.split(separator: "\r\n")
            .first { $0.hasPrefix("content-length:") }
            .flatMap { Int64($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }

        var received: Int64 = 0
        var matches = true
        var errorText: [UInt8] = []
        func consume(_ bytes: UnsafeRawBufferPointer) {
            if status == 200 {
                if matches && !pattern.matches(bytes, at: received) { matches = false }
            } else if errorText.count < 512 {
                errorText += bytes.prefix(512 - errorText.count)
            }
            received += Int64(bytes.count)
        }
        let rest = Array(head[(headerEnd! + 4)...])
        rest.withUnsafeBytes { consume($0) }
        var nextProgress: Int64 = 4 << 20
        while length.map({ received < $0 }) ?? true {
            let got = try receive(fd, into: buffer)
            if got == 0 { break }
            consume(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            if received >= nextProgress {
                progress()
                nextProgress += 4 << 20
            }
        }
        progress()
        return Result(
            status: status, bodyBytes: received, matchesPattern: matches,
            errorText: String(decoding: errorText, as: UTF8.self))
    }

    private func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(BenchError) -> Int {
        while true {
            let got = recv(fd, buffer.baseAddress, buffer.count, 0)
            if got >= 0 { return got }
            if errno == EINTR { continue }
            throw BenchError("reading from 127.0.0.1:\(port) failed: \(POSIX.lastError)")
        }
    }

    /// The index of the `\r\n\r\n` that ends the headers.
    private static func endOfHeaders(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
