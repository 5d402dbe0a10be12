import Foundation
import Hummingbird
import Mail

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a `multipart/form-data` body as it streams in, for the JSON API and the web app
/// alike: text fields into memory (each at most `maxFieldBytes`), file parts straight into
/// files of one `UploadDirectory`, so an upload of any size costs a few buffers of memory.
///
/// The delimiter is found with `memchr` on its first byte (the CR of `CRLF--boundary`) and
/// `memcmp` on the rest, and file bytes reach the disk through `UploadFile`'s 64 KiB buffer,
/// so a body is scanned at memory speed even in a debug build (multipart-kit, used before,
/// handed over binary content in slices ending at every CR byte). The read stops with
/// `.tooLarge` as soon as the body passes `limit`; the caller removes the upload directory,
/// so an over-large or broken upload leaves nothing behind.
struct MultipartFormReader {
    /// Why a body could not be read.
    enum Failure: Error, Equatable {
        /// The body is larger than the limit.
        case tooLarge
        /// No boundary, a part cut off, no closing boundary, or a part without
        /// `Content-Disposition: form-data; name="…"`.
        case malformed
        /// The text field is longer than `maxFieldBytes`.
        case fieldTooLong(String)
        /// The text field is not UTF-8.
        case notText(String)
        /// An upload file could not be written (a server-side problem).
        case storage(UploadError)
        /// More file parts than `maxFiles` (`RETRACT_MAX_ATTACHMENTS`).
        case tooManyFiles(Int)
        /// The caller's `admitFiles` refused the fields that came before the first file
        /// part (the web app's CSRF token); nothing of the file was stored.
        case refused
    }

    /// `--` and the boundary.
    let boundary: [UInt8]
    let limit: Int
    let uploads: UploadDirectory
    /// Most file parts taken; the one after them ends the read before a byte of it is stored.
    let maxFiles: Int

    /// Longest text field accepted (a message body).
    static var maxFieldBytes: Int { 1 << 20 }
    /// Longest header block of one part.
    static var maxHeaderBytes: Int { 8 << 10 }

    /// A reader for the boundary named by `contentType`, or nil when it is not
    /// `multipart/form-data` with a usable boundary.
    init?(contentType: String, limit: Int, uploads: UploadDirectory, maxFiles: Int = 100) {
        guard let boundary = Self.boundary(contentType: contentType) else { return nil }
        self.boundary = Array("--\(boundary)".utf8)
        self.limit = limit
        self.uploads = uploads
        self.maxFiles = maxFiles
    }

    /// The boundary of a `multipart/form-data; boundary=…` content type (quoted or not), or
    /// nil when the type is another one or the boundary is missing or longer than 200 bytes.
    static func boundary(contentType: String) -> String? {
        let parameters = HeaderParameters(contentType)
        guard parameters.value.lowercased() == "multipart/form-data", let boundary = parameters["boundary"],
            !boundary.isEmpty, boundary.utf8.count <= 200
        else { return nil }
        return boundary
    }

    /// Reads the whole body: text fields into the form, files into `uploads`.
    ///
    /// `admitFiles` sees the text fields read so far when the first file part begins; when
    /// it answers false the read ends with `.refused` before a byte of a file is stored.
    func read(_ body: RequestBody, admitFiles: @escaping (WebForm) -> Bool = { _ in true }) async throws(Failure)
        -> WebForm
    {
        let parser = Parser(boundary: boundary, uploads: uploads, maxFiles: maxFiles)
        parser.admitFiles = admitFiles
        var total = 0
        do {
            for try await chunk in body {
                total += chunk.readableBytes
                if total > limit { throw Failure.tooLarge }
                parser.buffer.append(contentsOf: chunk.readableBytesView)
                try parser.advance(final: false)
            }
            try parser.advance(final: true)
        } catch let failure as Failure {
            parser.abandon()
            throw failure
        } catch let error as UploadError {
            parser.abandon()
            throw .storage(error)
        } catch {
            parser.abandon()
            throw .malformed
        }
        guard parser.state == .done else { throw .malformed }
        return parser.form
    }
}

/// The framing state machine: the bytes not yet consumed, the part being read, the form.
private final class Parser {
    enum State {
        case preamble
        case headers
        case body
        case done
    }

    enum Content {
        case text
        case file(UploadFile)
        case skipped
    }

    let boundary: [UInt8]
    /// CR LF and the boundary: what ends a part's content.
    let delimiter: [UInt8]
    let uploads: UploadDirectory
    let maxFiles: Int
    var fileCount = 0
    /// Asked once, at the first file part, whether files may be stored.
    var admitFiles: (WebForm) -> Bool = { _ in true }
    var filesAdmitted = false
    var buffer: [UInt8] = []
    var state = State.preamble
    var form = WebForm()
    var name = ""
    var content = Content.skipped
    var text: [UInt8] = []

    init(boundary: [UInt8], uploads: UploadDirectory, maxFiles: Int) {
        self.boundary = boundary
        self.delimiter = [13, 10] + boundary
        self.uploads = uploads
        self.maxFiles = maxFiles
        buffer.reserveCapacity(128 * 1024)
    }

    /// Consumes what `buffer` holds; `final` when no more bytes will come.
    func advance(final: Bool) throws {
        while true {
            switch state {
            case .preamble:
                guard let start = find(boundary) else {
                    if final { throw MultipartFormReader.Failure.malformed }
                    if buffer.count > boundary.count { buffer.removeFirst(buffer.count - boundary.count) }
                    return
                }
                let after = start + boundary.count
                guard buffer.count >= after + 2 else {
                    if final { throw MultipartFormReader.Failure.malformed }
                    return
                }
                if buffer[after] == UInt8(ascii: "-"), buffer[after + 1] == UInt8(ascii: "-") {
                    state = .done
                    return
                }
                buffer.removeFirst(after + 2)
                state = .headers
            case .headers:
                guard let end = find([13, 10, 13, 10]) else {
                    if final || buffer.count > MultipartFormReader.maxHeaderBytes {
                        throw MultipartFormReader.Failure.malformed
                    }
                    return
                }
                guard end <= MultipartFormReader.maxHeaderBytes else { throw MultipartFormReader.Failure.malformed }
                try open(headers: String(decoding: buffer[..<end], as: UTF8.self))
                buffer.removeFirst(end + 4)
                state = .body
            case .body:
                if let end = find(delimiter) {
                    try take(end)
                    guard buffer.count >= delimiter.count + 2 else {
                        if final { throw MultipartFormReader.Failure.malformed }
                        return
                    }
                    try finish()
                    if buffer[delimiter.count] == UInt8(ascii: "-"), buffer[delimiter.count + 1] == UInt8(ascii: "-") {
                        state = .done
                        return
                    }
                    buffer.removeFirst(delimiter.count + 2)
                    state = .headers
                } else {
                    if final { throw MultipartFormReader.Failure.malformed }
                    // The delimiter may begin in the last bytes: keep them for the next chunk.
                    let keep = delimiter.count - 1
                    if buffer.count > keep { try take(buffer.count - keep) }
                    return
                }
            case .done:
                buffer.removeAll()
                return
            }
        }
    }

    /// Closes an open file after a failure (the caller removes the directory).
    func abandon() {
        if case .file(let file) = content { try? file.close() }
        content = .skipped
    }

    /// Hands the first `count` bytes of the buffer to the open part and drops them.
    private func take(_ count: Int) throws {
        guard count > 0 else { return }
        switch content {
        case .file(let file):
            try buffer.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        case .text:
            guard text.count + count <= MultipartFormReader.maxFieldBytes else {
                throw MultipartFormReader.Failure.fieldTooLong(name)
            }
            text.append(contentsOf: buffer[0..<count])
        case .skipped:
            break
        }
        buffer.removeFirst(count)
    }

    /// Starts a part from its header block.
    private func open(headers: String) throws {
        var disposition: HeaderParameters?
        for line in headers.split(separator: "\r\n") {
            let pieces = line.split(separator: ":", maxSplits: 1)
            if pieces.count == 2, pieces[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition" {
                disposition = HeaderParameters(String(pieces[1]))
            }
        }
        guard let disposition, disposition.value.lowercased() == "form-data", let name = disposition["name"],
            !name.isEmpty
        else { throw MultipartFormReader.Failure.malformed }
        self.name = name
        text = []
        let fileName = disposition["filename*"].flatMap(HeaderParameters.decodeExtended) ?? disposition["filename"]
        if fileName != nil, !filesAdmitted {
            guard admitFiles(form) else { throw MultipartFormReader.Failure.refused }
            filesAdmitted = true
        }
        if let fileName {
            // A browser's empty file input sends a part with an empty file name and no bytes.
            if fileName.isEmpty {
                content = .skipped
            } else {
                fileCount += 1
                guard fileCount <= maxFiles else { throw MultipartFormReader.Failure.tooManyFiles(maxFiles) }
                content = .file(try uploads.createFile(named: fileName))
            }
        } else {
            content = .text
        }
    }

    /// Ends the open part: its text becomes a field, its file an entry of the form.
    private func finish() throws {
        defer { content = .skipped }
        switch content {
        case .file(let file):
            try file.close()
            form.files.append(.init(field: name, name: file.url.lastPathComponent, url: file.url, size: file.size))
        case .text:
            guard let value = String(validating: text, as: UTF8.self) else {
                throw MultipartFormReader.Failure.notText(name)
            }
            form.add(name, value)
            text = []
        case .skipped:
            break
        }
    }

    /// The offset of `needle` in the buffer: `memchr` for its first byte, `memcmp` for the rest.
    private func find(_ needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, buffer.count >= needle.count else { return nil }
        return buffer.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pattern in
                let base = hay.baseAddress!
                let last = hay.count - pattern.count
                var index = 0
                while index <= last {
                    guard let found = memchr(base + index, Int32(pattern[0]), last - index + 1) else { return nil }
                    let offset = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
                    if memcmp(base + offset, pattern.baseAddress!, pattern.count) == 0 { return offset }
                    index = offset + 1
                }
                return nil
            }
        }
    }
}
