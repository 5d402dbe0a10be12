import Foundation
import Seal
import Sodium
import Testing

/// One parsed file of `Vectors/` (format in docs/crypto.md, "Test vectors").
struct VectorFile: CustomStringConvertible {
    let name: String
    let expect: String
    let fields: [String: String]

    var description: String { name }

    /// The vector directory copied into the test bundle.
    static var directory: URL? {
        Bundle.module.url(forResource: "Vectors", withExtension: nil)
    }

    /// File names (without `.txt`) of every vector, sorted; empty if the bundle is missing,
    /// which `VectorTests` reports as a failure of its own.
    static let names: [String] = {
        guard let directory, let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            return []
        }
        return files.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()
    }()

    static func load(_ name: String) throws -> VectorFile {
        let directory = try #require(Self.directory)
        let text = try String(contentsOf: directory.appendingPathComponent("\(name).txt"), encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let colon = try #require(line.firstIndex(of: ":"), "line without a colon in \(name)")
            let key = String(line[..<colon])
            var value = line[line.index(after: colon)...]
            if value.first == " " {
                value = value.dropFirst()
            }
            #expect(fields[key] == nil, "repeated field \(key) in \(name)")
            fields[key] = String(value)
        }
        return VectorFile(name: name, expect: try #require(fields["expect"]), fields: fields)
    }

    func text(_ key: String) throws -> String {
        try #require(fields[key], "\(name) has no \(key)")
    }

    func hex(_ key: String) throws -> [UInt8] {
        try Hex.decode(text(key))
    }

    func integer<Number: FixedWidthInteger>(_ key: String, as type: Number.Type = Int.self) throws -> Number {
        try #require(Number(text(key)), "\(name): \(key) is not a number")
    }
}
