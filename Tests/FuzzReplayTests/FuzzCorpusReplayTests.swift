import Foundation
import RetractFuzzTargets
import Testing

/// Every file of every fuzz target's corpus (Fuzz/Corpus/<target>/: the seeds and each
/// crash the fuzzer ever found, named after its bug) goes once through the same entry point
/// as `make fuzz`, so a parser that once crashed on an input never does again.
@Suite("Fuzz corpus replay")
struct FuzzCorpusReplayTests {
    /// Fuzz/Corpus in this checkout.
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus", isDirectory: true)

    /// The corpus files of `target`, sorted by name.
    static func files(of target: FuzzTarget) throws -> [URL] {
        let directory = corpus.appendingPathComponent(target.rawValue, isDirectory: true)
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every fuzz target has a seed corpus", arguments: FuzzTarget.allCases)
    func everyTargetHasSeeds(target: FuzzTarget) throws {
        #expect(try !Self.files(of: target).isEmpty, "Fuzz/Corpus/\(target.rawValue) has no seed")
    }

    @Test("every corpus file goes through its parser without a crash", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        for file in try Self.files(of: target) {
            target.run([UInt8](try Data(contentsOf: file)))
        }
    }

    @Test("every fuzz target has its libFuzzer executable", arguments: FuzzTarget.allCases)
    func everyTargetHasAnExecutable(target: FuzzTarget) {
        let source = Self.corpus.deletingLastPathComponent()
            .appendingPathComponent("Sources/\(target.rawValue)/\(target.rawValue).swift")
        #expect(FileManager.default.fileExists(atPath: source.path), "\(source.path) is missing")
    }
}
