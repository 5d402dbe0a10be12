import Foundation
import Hummingbird
import MultipartKit

/// Reads a `multipart/form-data` request body as it arrives.
///
/// Text parts become `MessageForm` fields; every part named `attachment` that carries a file
/// name is written straight to its own file in the request's `UploadDirectory`, chunk by
/// chunk, so an upload of any size costs a few buffers of memory. Counting stops the read at
/// the upload limit (413); broken framing (no boundary, a part cut off, no closing boundary)
/// is a 400. multipart-kit's `MultipartParser` does the framing: it is push-based, fed one
/// body buffer at a time.
struct APIMultipartReader {
    /// Largest text field (a body text is at most this long).
    static let maxFieldSize = 1 << 20

    let boundary: String
    let limit: Int
    let uploads: UploadDirectory

    /// The boundary from a `multipart/form-data; boundary=…` content type.
    static func boundary(contentType: String) throws(APIProblem) -> String {
        let parameters = HeaderParameters(contentType)
        guard let boundary = parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw .malformedBody("the multipart/form-data content type has no boundary parameter")
        }
        return boundary
    }

    /// Reads the whole body into a form whose attachments are files in `uploads`.
    func read(_ body: RequestBody) async throws -> MessageForm {
        let parser = MultipartParser(boundary: boundary)
        let collector = PartCollector(uploads: uploads)
        parser.onHeader = { name, value in collector.header(name: name, value: value) }
        parser.onBody = { buffer in collector.body(&buffer) }
        parser.onPartComplete = { collector.complete() }
        let closing = Array("--\(boundary)--".utf8)
        var tail: [UInt8] = []
        var total = 0
        for try await buffer in body {
            total += buffer.readableBytes
            guard total <= limit else { throw APIProblem.tooLarge(limit: limit, hint: APIProblem.uploadHint) }
            do {
                try parser.execute(buffer)
            } catch {
                throw APIProblem.malformedBody("the multipart body is malformed (a part's headers are broken)")
            }
            if let failure = collector.failure { throw failure }
            tail.append(contentsOf: buffer.readableBytesView)
            if tail.count > 512 { tail.removeFirst(tail.count - 512) }
        }
        guard collector.partCount > 0, !collector.partOpen, tail.contains(bytes: closing) else {
            throw APIProblem.malformedBody(
                "the multipart body ends early: every part needs its boundary and the body its closing --boundary--")
        }
        return collector.form
    }
}

/// The parser's callbacks land here: one part at a time, text into fields, files to disk.
private final class PartCollector {
    enum Part {
        case undecided
        case field(String, [UInt8])
        case file(UploadFile)
        case skipped
    }

    let uploads: UploadDirectory
    var form = MessageForm()
    var headers: [(String, String)] = []
    var part = Part.undecided
    /// True between a part's first header and its end.
    var partOpen = false
    var partCount = 0
    /// The first problem found; the reader stops at it.
    var failure: (any Error)?

    init(uploads: UploadDirectory) {
        self.uploads = uploads
    }

    func header(name: String, value: String) {
        partOpen = true
        headers.append((name.lowercased(), value))
    }

    func body(_ buffer: inout ByteBuffer) {
        guard failure == nil else { return }
        if case .undecided = part { decide() }
        switch part {
        case .field(let name, var bytes):
            part = .skipped  // drops the enum's reference, so the append does not copy the bytes
            bytes.append(contentsOf: buffer.readableBytesView)
            guard bytes.count <= APIMultipartReader.maxFieldSize else {
                return fail(
                    APIProblem.invalidField(name, "\(name) is longer than \(APIMultipartReader.maxFieldSize) bytes"))
            }
            part = .field(name, bytes)
        case .file(let file):
            do {
                try buffer.withUnsafeReadableBytes { try file.write($0) }
            } catch {
                fail(error)
            }
        case .undecided, .skipped:
            break
        }
    }

    func complete() {
        defer {
            headers = []
            part = .undecided
            partOpen = false
            partCount += 1
        }
        guard failure == nil else { return }
        if case .undecided = part { decide() }
        switch part {
        case .field(let name, let bytes):
            guard let value = String(validating: bytes, as: UTF8.self) else {
                return fail(APIProblem.invalidField(name, "\(name) is not UTF-8 text"))
            }
            do {
                try form.set(field: name, value: value)
            } catch {
                fail(error)
            }
        case .file(let file):
            do {
                try file.close()
                form.attachments.append(file.url)
            } catch {
                fail(error)
            }
        case .undecided, .skipped:
            break
        }
    }

    /// Decides from the part's headers whether it is a text field or a file.
    private func decide() {
        part = .skipped
        guard let disposition = headers.first(where: { $0.0 == "content-disposition" })?.1 else {
            return fail(APIProblem.malformedBody("a multipart part has no Content-Disposition header"))
        }
        let parameters = HeaderParameters(disposition)
        guard parameters.value.lowercased() == "form-data", let name = parameters["name"], !name.isEmpty else {
            return fail(
                APIProblem.malformedBody("each multipart part must be Content-Disposition: form-data; name=\"…\""))
        }
        if let fileName = parameters["filename*"].flatMap(HeaderParameters.decodeExtended) ?? parameters["filename"] {
            guard name == "attachment" else {
                return fail(
                    APIProblem.invalidField(
                        name, "only parts named attachment may carry files; \(name) is a text field"))
            }
            // A browser's empty file input sends a part with an empty name and no bytes.
            if fileName.isEmpty { return }
            do {
                part = .file(try uploads.createFile(named: fileName))
            } catch {
                fail(error)
            }
        } else if name == "attachment" {
            fail(APIProblem.invalidField("attachment", "attachment parts must be files (with a filename)"))
        } else {
            part = .field(name, [])
        }
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        part = .skipped
    }
}

/// A header value with parameters, `form-data; name="to"; filename="a b.pdf"`.
struct HeaderParameters {
    /// The part before the first `;`.
    let value: String
    private var parameters: [String: String] = [:]

    init(_ header: String) {
        var items: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in header {
            if escaped {
                current.append(character)
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ";" && !quoted {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        value = items.first?.trimmingCharacters(in: .whitespaces) ?? ""
        for item in items.dropFirst() {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let raw = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if parameters[key] == nil { parameters[key] = raw }
        }
    }

    subscript(_ key: String) -> String? { parameters[key] }

    /// An RFC 8187 extended value, `UTF-8''na%C3%AFve.txt`.
    static func decodeExtended(_ text: String) -> String? {
        let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].lowercased() == "utf-8" else { return nil }
        return String(pieces[2]).removingPercentEncoding
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if Array(self[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
