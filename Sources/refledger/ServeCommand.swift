import ArgumentParser
import Logging
import RefLedgerServer
import RefLedgerStore

/// `refledger serve --data DIR --socket PATH`
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: HTTP/1.1 on a Unix domain socket over the data directory's log.",
        discussion: """
            One daemon writes a data directory; a second one is refused. SIGTERM or SIGINT shuts it down \
            gracefully: it stops accepting, answers the requests in flight, commits, closes the log and \
            removes the socket. `curl --unix-socket PATH http://localhost/v1/health` checks it.
            """
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("The Unix socket to listen on (default: DIR/refledger.sock).", valueName: "PATH"))
    var socket: String?

    @Option(
        name: .customLong("max-map-mib"),
        help: ArgumentHelp(
            "Cap the LMDB map (the log's size) at this many MiB; writes past it answer 507.",
            valueName: "MiB"
        )
    )
    var maxMapMiB: Int?

    @Option(
        name: .customLong("snapshot-every"),
        help: ArgumentHelp(
            "Snapshot the ledger after this many events since the last snapshot (restart replays at most that many).",
            valueName: "EVENTS"
        )
    )
    var snapshotEvery: Int = 250_000

    @Option(
        name: .customLong("idle-snapshot-after"),
        help: ArgumentHelp(
            "Snapshot a tail of at least a tenth of --snapshot-every events after this many seconds without a write (0: never).",
            valueName: "SECONDS"
        )
    )
    var idleSnapshotAfter: Int = 10

    @Option(
        name: .customLong("as-of-ledgers"),
        help: ArgumentHelp(
            "Ledgers of queries below the head kept for the next ones at or after their seqs (each up to a whole ledger's memory; 0: none).",
            valueName: "N"
        )
    )
    var asOfLedgers: Int = 1

    @Option(
        name: .customLong("queue-limit"),
        help: ArgumentHelp("Facts waiting for the writer, at most (503 beyond).", visibility: .hidden)
    )
    var queueLimit: Int = 100_000

    @Option(
        name: .customLong("max-facts-per-commit"),
        help: ArgumentHelp(
            "Facts judged into one commit, at most (whole requests; one request may exceed it).",
            visibility: .hidden
        )
    )
    var maxFactsPerCommit: Int = 10_000

    @Option(
        name: .customLong("testing-commit-delay-ms"),
        help: ArgumentHelp("Testing: sleep before each commit.", visibility: .hidden)
    )
    var commitDelayMillis: Int = 0

    func validate() throws {
        if let maxMapMiB, maxMapMiB < 1 || maxMapMiB > 1 << 30 {
            throw ValidationError("--max-map-mib must be at least 1.")
        }
        if queueLimit < 1 { throw ValidationError("--queue-limit must be at least 1.") }
        if maxFactsPerCommit < 1 { throw ValidationError("--max-facts-per-commit must be at least 1.") }
        if snapshotEvery < 1 { throw ValidationError("--snapshot-every must be at least 1.") }
        if idleSnapshotAfter < 0 || idleSnapshotAfter > 86_400 {
            throw ValidationError("--idle-snapshot-after must be 0…86400.")
        }
        if asOfLedgers < 0 || asOfLedgers > 64 { throw ValidationError("--as-of-ledgers must be 0…64.") }
        if commitDelayMillis < 0 || commitDelayMillis > 60_000 {
            throw ValidationError("--testing-commit-delay-ms must be 0…60000.")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "refledger")
        let directory = data.directory
        var configuration = DaemonConfiguration(
            dataDirectory: directory,
            socketPath: socket ?? directory + "/refledger.sock"
        )
        if let maxMapMiB {
            configuration.logOptions.maxMapSizeBytes = maxMapMiB << 20
            configuration.logOptions.initialMapSizeBytes = min(
                configuration.logOptions.initialMapSizeBytes,
                maxMapMiB << 20
            )
        }
        configuration.maxQueuedFacts = queueLimit
        configuration.maxFactsPerCommit = maxFactsPerCommit
        configuration.snapshotEveryEvents = snapshotEvery
        configuration.idleSnapshotSeconds = idleSnapshotAfter
        configuration.asOfLedgersKept = asOfLedgers
        configuration.commitDelayMillis = commitDelayMillis
        do {
            try await Daemon.run(configuration, logger: logger)
        } catch let failure as Daemon.StartFailure {
            throw CommandFailure("refledger serve: \(failure.description)")
        }
    }
}
