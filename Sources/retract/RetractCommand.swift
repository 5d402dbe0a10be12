import ArgumentParser

/// `retract`: send sealed messages by link, and take them back.
@main
struct RetractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Send mail as sealed links you can take back, on any domain.",
        version: "retract \(retractBuildVersion)",
        subcommands: [
            InitCommand.self, KeysCommand.self, ServeCommand.self, SendCommand.self, StatusCommand.self,
            ListCommand.self, RevokeCommand.self, OpenCommand.self, DeliverCommand.self, OutboxCommand.self,
            SendersCommand.self, GatewayCommand.self, BackupCommand.self, RestoreCommand.self,
        ])
}
