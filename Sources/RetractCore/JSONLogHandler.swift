import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line (`RETRACT_LOG_FORMAT=json`), for
/// log shippers (journald's JSON export, Loki, Elasticsearch) that should not parse text.
///
/// Each line holds `time` (RFC 3339, UTC, milliseconds), `level`, `message`, `label`, and
/// every metadata value as a field of its own, flattened (a nested dictionary becomes
/// `outer.inner`). Hummingbird's `hb.request.id` is written as `request_id`, so a request's
/// lines can be found together, and the vault's `message` (a message id) as `message_id`,
/// beside the line's own `message`. Nothing secret is ever given to a logger (docs/operations.md,
/// "Logs"); this handler adds nothing but the time and the level.
public struct JSONLogHandler: LogHandler {
    /// Serialises the writes of every copy, so two lines never interleave.
    private final class Output: Sendable {
        let lock = Mutex(())
        let write: @Sendable (String) -> Void
        init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }
    }

    /// Metadata renamed on output: the request id gets a shipper-friendly name, and the
    /// message id must not collide with the line's text.
    static let renamedKeys = ["hb.request.id": "request_id", "message": "message_id"]

    private let label: String
    private let output: Output
    /// The handler's own metadata, merged under each call's.
    public var metadata: Logger.Metadata = [:]
    /// The least severe level written.
    public var logLevel: Logger.Level = .info
    /// Metadata added to every line from the task's context (swift-log's provider).
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler that hands each finished line (with its newline) to `write`.
    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.output = Output(write)
    }

    /// A handler writing to standard error, like swift-log's `StreamLogHandler.standardError`.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// One metadata value of the handler.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line for `event`.
    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        let line = Self.line(
            time: Date(), level: event.level, message: event.message.description, label: label, metadata: merged)
        output.lock.withLock { _ in output.write(line) }
    }

    /// The JSON text of one line, ending in a newline; keys in a fixed order (the four
    /// standard fields first, then the metadata sorted), so lines diff and grep well.
    static func line(time: Date, level: Logger.Level, message: String, label: String, metadata: Logger.Metadata)
        -> String
    {
        var fields: [(String, String)] = []
        flatten(metadata, prefix: "", into: &fields)
        var text = "{\"time\":\(quoted(timestamp(time))),\"level\":\(quoted(level.rawValue))"
        text += ",\"message\":\(quoted(message)),\"label\":\(quoted(label))"
        for (key, value) in fields.sorted(by: { $0.0 < $1.0 }) where !["time", "level", "message", "label"].contains(key) {
            text += ",\(quoted(key)):\(value)"
        }
        return text + "}\n"
    }

    /// Metadata as (key, JSON value) pairs; dictionaries flattened with dots, arrays as JSON arrays of strings.
    private static func flatten(_ metadata: Logger.Metadata, prefix: String, into fields: inout [(String, String)]) {
        for (key, value) in metadata {
            let name = renamedKeys[prefix + key] ?? prefix + key
            switch value {
            case .string(let string): fields.append((name, quoted(string)))
            case .stringConvertible(let convertible): fields.append((name, quoted(convertible.description)))
            case .array(let values): fields.append((name, "[" + values.map { quoted($0.description) }.joined(separator: ",") + "]"))
            case .dictionary(let nested): flatten(nested, prefix: name + ".", into: &fields)
            }
        }
    }

    /// `date` as RFC 3339 in UTC with milliseconds, e.g. `2026-12-04T20:10:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// `string` as a JSON string: quotes, backslashes and every control character escaped,
    /// so a hostile value (a header, an address) can never end the line or forge a field.
    static func quoted(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
