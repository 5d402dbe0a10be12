import ArgumentParser
import Foundation
import RetractCore

/// Everything the CLI prints goes through here: prefixed diagnostics on stderr, results on
/// stdout, JSON in one shape.
enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("retract: error: \(message)\n".utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("retract: warning: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("retract: note: \(message)\n".utf8))
    }

    static func out(_ line: String) {
        print(line)
    }

    /// Pretty, key-sorted JSON with snake_case keys and ISO 8601 dates.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Runs a command body; any error becomes one `retract: error:` line and exit status 1.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as CleanExit {
            throw error
        } catch {
            Console.error(describe(error))
            throw ExitCode(1)
        }
    }

    static func describe(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}
