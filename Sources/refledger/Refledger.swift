import ArgumentParser
import Dispatch

/// The entry point: the offline commands (synchronous) run on the process's main thread, the
/// others as a task while the main queue is drained, as an async `main` would run them all.
///
/// An async `main` runs even synchronous commands on a pool thread (libdispatch parks the main
/// thread), and `HeapPrefaulter` maps memory in ahead of a growing ledger only for the main
/// thread: `import` judges facts there.
@main
enum RefledgerMain {
    static func main() {
        let command: any ParsableCommand
        do {
            command = try Refledger.parseAsRoot()
        } catch {
            Refledger.exit(withError: error)
        }
        guard let asyncCommand = command as? any AsyncParsableCommand else {
            var command = command
            do { try command.run() } catch { Refledger.exit(withError: error) }
            return
        }
        let pending = PendingCommand(asyncCommand)
        Task {
            var command = pending.command
            do { try await command.run() } catch { Refledger.exit(withError: error) }
            Refledger.exit()
        }
        dispatchMain()
    }

    /// The parsed command, handed to the task that runs it (it runs nowhere else).
    private struct PendingCommand: @unchecked Sendable {
        let command: any AsyncParsableCommand
        init(_ command: any AsyncParsableCommand) { self.command = command }
    }
}

/// The `refledger` command and its subcommands.
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
