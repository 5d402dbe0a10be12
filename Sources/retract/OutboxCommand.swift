import ArgumentParser
import RetractCore

/// `retract outbox`: what is waiting to be delivered, and why.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "List the mail not yet delivered and why it waits.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the list as JSON.") var json = false

    func run() async throws {
        try await Console.run {
            let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
            let entries = try service.outbox()
            if json { return try Console.json(entries) }
            if entries.isEmpty { Console.out("the outbox is empty: everything was delivered") }
            for entry in entries {
                Console.out("\(entry.id)  \(entry.kind)  \(entry.recipient)  \(entry.state)  attempts \(entry.attempts)  \(entry.why)")
            }
        }
    }
}
