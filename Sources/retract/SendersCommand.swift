import ArgumentParser
import Foundation
import RetractCore

#if canImport(Glibc)
    import Glibc
#endif

/// `retract senders`: the accounts that may send through the API and the web app.
struct SendersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "senders", abstract: "Manage sender accounts (API tokens and web passwords).",
        subcommands: [Add.self, Passwd.self, List.self, Remove.self, Token.self])

    /// What `--json` prints for a new token: shown once, never stored.
    struct TokenOutput: Encodable {
        var address: String
        var name: String?
        var token: String
    }

    /// `retract senders add ADDR`: a new account and its API token, printed once.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Create a sender and print its API token (shown only this once).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The sender's address; they see and revoke the messages sent from it.") var address: String
        @Option(help: "The sender's display name.") var name: String?
        @Flag(help: "Print {\"address\", \"name\", \"token\"} as JSON.") var json = false

        func run() async throws {
            try await Console.run {
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                let (account, token) = try service.addSender(address: address, name: name)
                if json {
                    return try Console.json(TokenOutput(address: account.address, name: account.name, token: token))
                }
                Console.note("sender \(account.address) added; its API token follows and is shown only this once")
                Console.out(token)
                Console.note("set a web password with `retract senders passwd \(account.address)`")
            }
        }
    }

    /// `retract senders passwd ADDR`: sets the web password, read without echo or from a pipe.
    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd",
            abstract: "Set a sender's web password: typed without echo, one line from a pipe, or --generate.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The sender's address.") var address: String
        @Flag(help: "Generate a random password, set it and print it.") var generate = false

        func run() async throws {
            try await Console.run {
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                guard try service.senderAccounts().contains(where: { $0.address.lowercased() == address.lowercased() })
                else { throw RetractError.senderNotFound(address) }
                let password = generate ? RetractService.generatePassword() : try PasswordInput.read(for: address)
                try service.setSenderPassword(address: address, password: password)
                if generate {
                    Console.note("password of \(address) set; it follows and is shown only this once")
                    Console.out(password)
                } else {
                    Console.out("retract: password of \(address) set; its web sessions were signed out")
                }
            }
        }
    }

    /// `retract senders list`: every account, without secrets.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the senders.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await Console.run {
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                let accounts = try service.senderAccounts()
                if json { return try Console.json(accounts) }
                for account in accounts {
                    let name = account.name.map { "  \"\($0)\"" } ?? ""
                    Console.out(
                        "\(account.address)\(name)  created \(Console.date(account.createdAt))  password \(account.hasPassword ? "set" : "none")"
                    )
                }
            }
        }
    }

    /// `retract senders remove ADDR`: deletes the account; its messages stay.
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Delete a sender, its token and its web sessions (its messages stay).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The sender's address.") var address: String

        func run() async throws {
            try await Console.run {
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                try service.removeSender(address: address)
                Console.out("retract: sender \(address) removed")
            }
        }
    }

    /// `retract senders token ADDR`: a new API token; the old one stops working.
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token", abstract: "Issue a new API token for a sender; the old one stops working at once.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The sender's address.") var address: String
        @Flag(help: "Print {\"address\", \"token\"} as JSON.") var json = false

        func run() async throws {
            try await Console.run {
                let service = try RetractService.open(try global.configuration(), logger: try CommandLogger.make())
                let token = try service.rotateSenderToken(address: address)
                let account = try service.senderAccounts().first { $0.address.lowercased() == address.lowercased() }
                if json {
                    return try Console.json(
                        TokenOutput(address: account?.address ?? address, name: account?.name, token: token))
                }
                Console.note("new API token of \(address) follows (shown only this once); the old one no longer works")
                Console.out(token)
            }
        }
    }
}

/// Reads a password: from a terminal without echo (typed twice), or one line from a pipe.
enum PasswordInput {
    static func read(for address: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw RetractError.invalidInput("no password on standard input; pipe one line, or use --generate")
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        let first = try prompt("Password for \(address): ")
        let second = try prompt("Repeat the password: ")
        guard first == second else { throw RetractError.invalidInput("the two passwords differ; nothing was changed") }
        return first
    }

    /// Prompts on standard error and reads one line with echo off.
    private static func prompt(_ text: String) throws -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        let hasTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if hasTerminal {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        defer {
            if hasTerminal { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else {
            throw RetractError.invalidInput("no password was typed; nothing was changed")
        }
        return line
    }
}
