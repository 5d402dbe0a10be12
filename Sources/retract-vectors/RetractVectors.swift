import Foundation
import Seal
import Sodium

/// Writes the language-neutral test vectors of docs/crypto.md, one file per scenario.
///
/// Usage: `retract-vectors <directory>`. Every scenario is opened before it is written and
/// must give its announced outcome, so a wrong vector is never produced. Keys are random on
/// every run; the files are regenerated as a whole (old `.txt` files are removed).
@main
struct RetractVectors {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: retract-vectors <output-directory>\n".utf8))
            exit(64)
        }
        let directory = URL(fileURLWithPath: arguments[1], isDirectory: true)
        let vectors = try scenarios()

        let files = FileManager.default
        try files.createDirectory(at: directory, withIntermediateDirectories: true)
        for old in try files.contentsOfDirectory(atPath: directory.path) where old.hasSuffix(".txt") {
            try files.removeItem(at: directory.appendingPathComponent(old))
        }
        for vector in vectors {
            try vector.rendered.write(
                to: directory.appendingPathComponent("\(vector.name).txt"),
                atomically: true,
                encoding: .utf8
            )
        }
        print("retract-vectors: wrote \(vectors.count) vectors to \(directory.path)")
    }
}

/// A scenario whose outcome differs from its `expect:` line.
struct ScenarioMismatch: Error, CustomStringConvertible {
    let name: String
    let detail: String

    var description: String { "retract-vectors: error: scenario \(name): \(detail)" }
}
