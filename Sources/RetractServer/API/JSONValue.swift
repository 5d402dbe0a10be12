import Foundation
import RetractCore

/// A parsed JSON document, kept as a tree so every field can be checked by name.
///
/// Decoding straight into a `Decodable` struct reports a failure as a coding path deep in a
/// `DecodingError`; reading the tree lets the API answer "`max_views` must be an integer"
/// with `field: max_views`, and refuse fields it does not know (a typo, or `from`).
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses a request body; broken JSON is a 400 that says so.
    static func parse(_ data: Data) throws(APIProblem) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .malformedBody("the body is not valid JSON; send one JSON object (Content-Type: application/json)")
        }
    }

    /// The name of this value's JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// The members of a JSON object, read one named field at a time; each accessor throws a
/// 400 problem naming the field (with its path, like `replacement.body`) when it is wrong.
struct JSONFields {
    let members: [String: JSONValue]
    /// The path of this object inside the body (`""` for the body itself).
    let path: String

    /// The body's top-level object, or a 400 when the body is another JSON type.
    init(_ value: JSONValue, path: String = "") throws(APIProblem) {
        guard case .object(let members) = value else {
            if path.isEmpty { throw .malformedBody("the body must be a JSON object, not \(value.typeName)") }
            throw .invalidField(path, "\(path) must be an object, not \(value.typeName)")
        }
        self.members = members
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Refuses members not in `allowed`; `explain` gives a specific reason for some names.
    func rejectUnknown(allowed: Set<String>, explain: [String: String] = [:]) throws(APIProblem) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            let reason =
                explain[key] ?? "unknown field \(name(key)); allowed: \(allowed.sorted().joined(separator: ", "))"
            throw .invalidField(name(key), reason)
        }
    }

    /// A string, or nil when absent or null.
    func string(_ key: String) throws(APIProblem) -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .invalidField(name(key), "\(name(key)) must be a string, not \(other.typeName)")
        }
    }

    /// A list of strings; a single string counts as a list of one. Empty when absent.
    func strings(_ key: String) throws(APIProblem) -> [String] {
        switch members[key] {
        case nil, .null?: return []
        case .string(let value)?: return [value]
        case .array(let items)?:
            var result: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let value) = item else {
                    throw .invalidField(name(key), "\(name(key))[\(index)] must be a string, not \(item.typeName)")
                }
                result.append(value)
            }
            return result
        case let other?:
            throw .invalidField(name(key), "\(name(key)) must be an array of strings, not \(other.typeName)")
        }
    }

    /// A whole number, or nil when absent or null.
    func integer(_ key: String) throws(APIProblem) -> Int? {
        switch members[key] {
        case nil, .null?: return nil
        case .number(let value)? where value.rounded() == value && abs(value) < 1e15: return Int(value)
        case let other?: throw .invalidField(name(key), "\(name(key)) must be an integer, not \(other.typeName)")
        }
    }

    /// A boolean, or nil when absent or null.
    func bool(_ key: String) throws(APIProblem) -> Bool? {
        switch members[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw .invalidField(name(key), "\(name(key)) must be true or false, not \(other.typeName)")
        }
    }

    /// A nested object, or nil when absent or null.
    func object(_ key: String) throws(APIProblem) -> JSONFields? {
        switch members[key] {
        case nil, .null?: return nil
        case let value?: return try JSONFields(value, path: name(key))
        }
    }

    /// A duration: a string like `7d` (as the CLI takes) or a number of seconds.
    func duration(_ key: String, bounds: DurationText.Bounds) throws(APIProblem) -> TimeInterval? {
        switch members[key] {
        case nil, .null?: return nil
        case .number(let value)?:
            do {
                return try DurationText.seconds(number: value, option: name(key), bounds: bounds)
            } catch {
                throw .invalidField(name(key), error.description)
            }
        case .string(let text)?: return try MessageForm.duration(text, field: name(key), bounds: bounds)
        case let other?:
            throw .invalidField(
                name(key),
                "\(name(key)) must be a duration like \"30s\", \"7d\" or a number of seconds, not \(other.typeName)")
        }
    }
}
