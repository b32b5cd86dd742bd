public import RefLedgerStore

/// Everything `refledger serve` decides before the daemon starts: where it keeps its data,
/// where it listens, and the bounds that keep it from growing without limit.
public struct DaemonConfiguration: Sendable {
    /// The data directory (the LMDB environment and the writer's lock file).
    public var dataDirectory: String
    /// The Unix domain socket the daemon listens on.
    public var socketPath: String
    /// How the event log is opened (``EventLog/Options/maxMapSizeBytes`` caps its size).
    public var logOptions = EventLog.Options()
    /// Facts waiting for the writer, at most; a request that would pass it is answered 503
    /// `overloaded`.
    public var maxQueuedFacts = 100_000
    /// Facts one commit takes at most (whole requests are never split across commits, so a
    /// commit holds more only when a single request is that large).
    public var maxFactsPerCommit = 10_000
    /// The largest NDJSON request body, in bytes; a larger one is 413 `too_large`.
    public var maxBatchBytes = 64 << 20
    /// The most NDJSON lines handed to the writer as one unit of a batch.
    public var maxLinesPerChunk = 10_000
    /// Client connections open at once, at most; more wait in the listen backlog.
    public var maxConnections = 1024
    /// Follow streams (`GET /v1/events?follow=true`) open at once, at most; more are 503.
    public var maxFollowStreams = 256
    /// Events committed between two snapshots of the ledger, at least: after a commit that
    /// brings the count since the last snapshot to this, the writer takes one in the background
    /// (and one at graceful shutdown), so that a restart replays at most about this many events.
    public var snapshotEveryEvents = 250_000
    /// Seconds without a commit after which the writer snapshots a tail of at least
    /// ``idleSnapshotMinimumEvents`` (0: never), so that a crash after a burst of writes need
    /// not replay it. An idle daemon has the cores to spare.
    public var idleSnapshotSeconds = 10
    /// The shortest tail an idle snapshot is taken for: a tenth of ``snapshotEveryEvents``
    /// (so that a trickle of facts does not rewrite the whole state for each).
    public var idleSnapshotMinimumEvents: UInt64 { UInt64(max(1, snapshotEveryEvents / 10)) }
    /// Threads that run blocking reads (log scans, as-of replays, query answers).
    public var readerThreads = 2
    /// Ledgers of queries below the head kept for the next ones (``AsOfLedgers``), each up to
    /// a whole ledger's memory; 0 keeps none.
    public var asOfLedgersKept = 1
    /// Testing only: the writer sleeps this long before each commit, so that tests can hold
    /// requests in the queue (0 in production).
    public var commitDelayMillis = 0

    /// A configuration with the defaults above.
    public init(dataDirectory: String, socketPath: String) {
        self.dataDirectory = dataDirectory
        self.socketPath = socketPath
    }

    /// The longest socket path the daemon accepts, in bytes (`sun_path` holds 108 with its NUL;
    /// some systems hold 104).
    public static let maxSocketPathBytes = 103
}
