import ArgumentParser
import RetractCore

/// `retract status ID`: who got it, who opened it, every attempt.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a message's recipients, opens and access log.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The message id.") var id: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await Console.run {
            let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
            let status = try service.status(messageID: id)
            if json { return try Console.json(status) }
            Console.out(
                "message \(status.id)  \"\(status.subject)\"  from \(status.sender)"
                    + (status.origin.map { "  (via the \($0))" } ?? ""))
            Console.out("sent \(Console.date(status.createdAt))  expires \(Console.date(status.expiresAt))")
            for r in status.recipients {
                Console.out(
                    "  \(r.kind.padding(toLength: 4, withPad: " ", startingAt: 0)) \(r.address)  \(r.state)  delivery \(r.delivery)  views \(r.views)  first opened \(Console.date(r.firstOpenedAt))")
            }
            if !status.accessLog.isEmpty {
                Console.out("access log:")
                for entry in status.accessLog {
                    Console.out("  \(Console.date(entry.at))  \(entry.recipient)  \(entry.result)")
                }
            }
        }
    }
}

/// `retract list`: every message, newest first.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List messages, newest first.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await Console.run {
            let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
            let list = try service.list()
            if json { return try Console.json(list) }
            for m in list {
                Console.out(
                    "\(m.id)  \(Console.date(m.createdAt))  \(m.opened)/\(m.recipients) opened  \(m.revoked) revoked  \(m.subject)"
                        + (m.origin.map { "  (via the \($0))" } ?? ""))
            }
        }
    }
}
