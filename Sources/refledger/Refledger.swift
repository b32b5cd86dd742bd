import ArgumentParser

/// The `refledger` executable: the daemon and the offline tools around its data directory.
@main
struct Refledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refledger",
        abstract: "An event-sourced referral ledger: a tamper-evident log of referral facts and the rewards they earn.",
        discussion: """
            serve runs the daemon on a Unix socket; post, query --socket and digest --socket talk to it. \
            Offline commands open the data directory read-only (import excepted) and may run beside a live daemon.
            """,
        subcommands: [
            ServeCommand.self, PostCommand.self, ImportCommand.self, ExportCommand.self, VerifyCommand.self,
            DigestCommand.self, QueryCommand.self,
        ]
    )
}

/// `--data DIR`, shared by the offline commands.
struct DataOption: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp("The data directory.", valueName: "DIR"))
    var directory: String = "./data"
}

/// A failure that ends a command with a message and an exit code.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
