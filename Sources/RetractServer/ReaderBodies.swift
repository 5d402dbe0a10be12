import Foundation
import Hummingbird

/// The JSON answer to a successful open (the HTTP contract of DESIGN.md).
struct OpenedMessageBody: Encodable {
    struct Attachment: Encodable {
        let index: Int
        let name: String
        let size: Int64
        let mediaType: String
    }

    let subject: String
    let from: String
    let sentAt: Date
    let bodyText: String
    let to: [String]
    let cc: [String]
    let attachments: [Attachment]
}

extension OpenedMessageBody {
    /// The same JSON `JSONResponse.make` writes for this body (snake_case keys in sorted
    /// order, ISO 8601 dates in whole seconds, no whitespace), written by hand.
    ///
    /// Why: every successful open answers with this body, and `JSONEncoder` with key
    /// conversion was several percent of an open's CPU.
    func json() -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(256 + bodyText.utf8.count + subject.utf8.count)
        out.writeStaticString("{\"attachments\":[")
        for (i, attachment) in attachments.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            out.writeStaticString("{\"index\":")
            out.writeString(String(attachment.index))
            out.writeStaticString(",\"media_type\":")
            Self.writeJSONString(attachment.mediaType, to: &out)
            out.writeStaticString(",\"name\":")
            Self.writeJSONString(attachment.name, to: &out)
            out.writeStaticString(",\"size\":")
            out.writeString(String(attachment.size))
            out.writeStaticString("}")
        }
        out.writeStaticString("],\"body_text\":")
        Self.writeJSONString(bodyText, to: &out)
        out.writeStaticString(",\"cc\":")
        Self.writeJSONArray(cc, to: &out)
        out.writeStaticString(",\"from\":")
        Self.writeJSONString(from, to: &out)
        out.writeStaticString(",\"sent_at\":\"")
        Self.writeISO8601(sentAt, to: &out)
        out.writeStaticString("\",\"subject\":")
        Self.writeJSONString(subject, to: &out)
        out.writeStaticString(",\"to\":")
        Self.writeJSONArray(to, to: &out)
        out.writeStaticString("}")
        return out
    }

    private static func writeJSONArray(_ values: [String], to out: inout ByteBuffer) {
        out.writeStaticString("[")
        for (i, value) in values.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            writeJSONString(value, to: &out)
        }
        out.writeStaticString("]")
    }

    /// A JSON string (RFC 8259), escaped as `JSONEncoder` escapes: quote, backslash, slash
    /// and control characters; everything else as UTF-8.
    static func writeJSONString(_ value: String, to out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "\""))
        // Most text needs no escape at all: copy it in one go.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "/") }) {
            out.writeString(value)
            out.writeInteger(UInt8(ascii: "\""))
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        var utf8 = value.utf8.makeIterator()
        var run: [UInt8] = []
        run.reserveCapacity(value.utf8.count)
        while let byte = utf8.next() {
            switch byte {
            case UInt8(ascii: "\""): run += [0x5C, 0x22]
            case UInt8(ascii: "\\"): run += [0x5C, 0x5C]
            case UInt8(ascii: "/"): run += [0x5C, 0x2F]
            case 0x0A: run += [0x5C, UInt8(ascii: "n")]
            case 0x0D: run += [0x5C, UInt8(ascii: "r")]
            case 0x09: run += [0x5C, UInt8(ascii: "t")]
            case 0x08: run += [0x5C, UInt8(ascii: "b")]
            case 0x0C: run += [0x5C, UInt8(ascii: "f")]
            case 0..<0x20:
                run += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: run.append(byte)
            }
        }
        out.writeBytes(run)
        out.writeInteger(UInt8(ascii: "\""))
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` in UTC, the fraction dropped: what `.iso8601` writes.
    static func writeISO8601(_ date: Date, to out: inout ByteBuffer) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) {
            out.writeInteger(UInt8(48 + n / 10))
            out.writeInteger(UInt8(48 + n % 10))
        }
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else {
            out.writeString(ISO8601DateFormatter().string(from: date))
            return
        }
        out.writeString(String(year / 1000) + String(year / 100 % 10) + String(year / 10 % 10) + String(year % 10))
        out.writeStaticString("-")
        two(parts.tm_mon + 1)
        out.writeStaticString("-")
        two(parts.tm_mday)
        out.writeStaticString("T")
        two(parts.tm_hour)
        out.writeStaticString(":")
        two(parts.tm_min)
        out.writeStaticString(":")
        two(parts.tm_sec)
        out.writeStaticString("Z")
    }
}

/// The JSON answer to every refused request: a stable code and one line.
struct ErrorBody: Encodable {
    let error: String
    let message: String
    var revokedAt: Date?
    var reason: String?
    var replaced: Bool?
    var expiredAt: Date?
    /// Where the verification code goes (partly masked), on `code_required`.
    var sentTo: String?
    /// Wrong codes left before the lock, on `invalid_code`.
    var remaining: Int?

    init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

/// The JSON answer to a code request: where the code went and until when it works.
struct CodeSentBody: Encodable {
    let sentTo: String?
    let expiresAt: Date?
    let message: String
}

/// A request the reader routes cannot take (wrong content type, malformed body or key).
struct ReaderRequestError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status, ErrorBody(error: code, message: message))
    }
}

/// JSON responses with the contract's conventions: snake_case keys, ISO 8601 dates.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"internal"}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
