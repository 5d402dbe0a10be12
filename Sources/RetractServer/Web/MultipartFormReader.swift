import Foundation
import Hummingbird

/// Reads a `multipart/form-data` body as it streams in: text fields into memory (bounded),
/// file parts straight into files under one folder, so an upload is never held in memory.
///
/// Stops with `.tooLarge` as soon as the body passes `limit` bytes; the caller removes the
/// folder, so an over-large upload leaves nothing behind.
struct MultipartFormReader {
    /// Why a body could not be read.
    enum Failure: Error, Equatable {
        /// The body is larger than the limit.
        case tooLarge
        /// Not multipart, no boundary, or a part that breaks the format.
        case malformed
    }

    let boundary: [UInt8]
    let limit: Int
    let directory: URL

    /// Longest text field accepted (a message body).
    static var maxFieldBytes: Int { 1 << 20 }
    /// Longest header block of one part.
    static var maxHeaderBytes: Int { 8 << 10 }

    /// A reader for the boundary named by `contentType`, or nil when it is not multipart.
    init?(contentType: String, limit: Int, directory: URL) {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        let parameters = contentType.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        guard let raw = parameters.first(where: { $0.lowercased().hasPrefix("boundary=") })?.dropFirst(9) else {
            return nil
        }
        let value = raw.hasPrefix("\"") && raw.hasSuffix("\"") && raw.count >= 2 ? raw.dropFirst().dropLast() : raw
        guard !value.isEmpty, value.utf8.count <= 70 else { return nil }
        self.boundary = Array("--\(value)".utf8)
        self.limit = limit
        self.directory = directory
    }

    private enum State {
        case preamble
        case headers
        case body
        case done
    }

    /// Reads the whole body into a form.
    func read(_ body: RequestBody) async throws(Failure) -> WebForm {
        var form = WebForm()
        var buffer: [UInt8] = []
        var state = State.preamble
        var total = 0
        var part: OpenPart?
        let delimiter = [13, 10] + boundary
        do {
            for try await chunk in body {
                total += chunk.readableBytes
                if total > limit { throw Failure.tooLarge }
                buffer.append(contentsOf: chunk.readableBytesView)
                try advance(&buffer, &state, &part, &form, delimiter: delimiter, final: false)
            }
            try advance(&buffer, &state, &part, &form, delimiter: delimiter, final: true)
        } catch let failure as Failure {
            try? part?.handle?.close()
            throw failure
        } catch {
            try? part?.handle?.close()
            throw .malformed
        }
        guard state == .done else { throw .malformed }
        return form
    }

    /// One part being read.
    private struct OpenPart {
        var name: String
        var fileName: String?
        var handle: FileHandle?
        var url: URL?
        var size: Int = 0
        var text: [UInt8] = []
    }

    private func advance(
        _ buffer: inout [UInt8], _ state: inout State, _ part: inout OpenPart?, _ form: inout WebForm,
        delimiter: [UInt8], final: Bool
    ) throws {
        while true {
            switch state {
            case .preamble:
                guard let start = Self.find(boundary, in: buffer) else {
                    if final { throw Failure.malformed }
                    if buffer.count > boundary.count { buffer.removeFirst(buffer.count - boundary.count) }
                    return
                }
                guard buffer.count >= start + boundary.count + 2 else {
                    if final { throw Failure.malformed }
                    return
                }
                let after = start + boundary.count
                if buffer[after] == UInt8(ascii: "-"), buffer[after + 1] == UInt8(ascii: "-") {
                    state = .done
                    return
                }
                buffer.removeFirst(after + 2)
                state = .headers
            case .headers:
                guard let end = Self.find([13, 10, 13, 10], in: buffer) else {
                    if final || buffer.count > Self.maxHeaderBytes { throw Failure.malformed }
                    return
                }
                part = try openPart(headers: String(decoding: buffer[..<end], as: UTF8.self), index: form.files.count)
                buffer.removeFirst(end + 4)
                state = .body
            case .body:
                guard var current = part else { throw Failure.malformed }
                if let end = Self.find(delimiter, in: buffer) {
                    try write(buffer[..<end], to: &current)
                    buffer.removeFirst(end)
                    guard buffer.count >= delimiter.count + 2 else {
                        if final { throw Failure.malformed }
                        part = current
                        return
                    }
                    try finish(current, into: &form)
                    part = nil
                    let after = delimiter.count
                    if buffer[after] == UInt8(ascii: "-"), buffer[after + 1] == UInt8(ascii: "-") {
                        state = .done
                        return
                    }
                    buffer.removeFirst(after + 2)
                    state = .headers
                } else {
                    if final { throw Failure.malformed }
                    let keep = delimiter.count - 1
                    if buffer.count > keep {
                        try write(buffer[..<(buffer.count - keep)], to: &current)
                        buffer.removeFirst(buffer.count - keep)
                    }
                    part = current
                    return
                }
            case .done:
                return
            }
        }
    }

    private func openPart(headers: String, index: Int) throws -> OpenPart {
        var name: String?
        var fileName: String?
        for line in headers.split(separator: "\r\n") {
            let pieces = line.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2,
                pieces[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition"
            else { continue }
            for parameter in Self.parameters(String(pieces[1])) {
                if parameter.key == "name" { name = parameter.value }
                if parameter.key == "filename" { fileName = parameter.value }
            }
        }
        guard let name, !name.isEmpty else { throw Failure.malformed }
        var part = OpenPart(name: name, fileName: fileName)
        if let fileName, !fileName.isEmpty {
            let folder = directory.appendingPathComponent(String(index + 1))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let url = folder.appendingPathComponent(Self.safeFileName(fileName))
            guard
                FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600])
            else { throw Failure.malformed }
            part.url = url
            part.handle = try FileHandle(forWritingTo: url)
        }
        return part
    }

    private func write(_ bytes: ArraySlice<UInt8>, to part: inout OpenPart) throws {
        guard !bytes.isEmpty else { return }
        part.size += bytes.count
        if let handle = part.handle {
            try handle.write(contentsOf: bytes)
        } else if part.fileName == nil {
            guard part.text.count + bytes.count <= Self.maxFieldBytes else { throw Failure.tooLarge }
            part.text.append(contentsOf: bytes)
        }
    }

    private func finish(_ part: OpenPart, into form: inout WebForm) throws {
        if let handle = part.handle, let url = part.url {
            try handle.close()
            form.files.append(.init(field: part.name, name: url.lastPathComponent, url: url, size: part.size))
        } else if part.fileName == nil {
            form.add(part.name, String(decoding: part.text, as: UTF8.self))
        }
    }

    /// `form-data; name="a"; filename="b.pdf"` → `[name: a, filename: b.pdf]`.
    static func parameters(_ header: String) -> [(key: String, value: String)] {
        var result: [(String, String)] = []
        var rest = Substring(header)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result.append((key, value))
        }
        return result
    }

    /// The last path component of a browser-supplied name, without control characters.
    static func safeFileName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
            .trimmingCharacters(in: .whitespaces)
        let bounded = String(cleaned.prefix(180))
        return bounded.isEmpty || bounded == "." || bounded == ".." ? "attachment" : bounded
    }

    /// The offset of `needle` in `haystack`.
    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pattern in
                let first = pattern[0]
                var index = 0
                let last = hay.count - pattern.count
                while index <= last {
                    guard let found = memchr(hay.baseAddress! + index, Int32(first), last - index + 1) else {
                        return nil
                    }
                    let offset = hay.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(hay.baseAddress! + offset, pattern.baseAddress!, pattern.count) == 0 { return offset }
                    index = offset + 1
                }
                return nil
            }
        }
    }
}
