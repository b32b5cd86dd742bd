public import RefLedgerCore

/// Re-applies a log's facts to a ledger, in seq order: the one path by which start-up,
/// `verify` and `import` of stored events rebuild state.
///
/// Each stored fact is turned back into a `Fact` from its client fields and applied with its
/// stored `recorded_at`; the events the ledger derives again can be compared with the stored
/// ones (`verify`) or trusted (start-up).
public struct LedgerReplay {
    /// What one stored fact re-derived, against what the log holds.
    public struct Step {
        /// The stored fact.
        public var stored: StoredEvent
        /// What applying it produced: the fact (with its decisions) and its derived events.
        public var rederived: [StoredEvent]
    }

    /// The ledger folded so far.
    public private(set) var ledger: Ledger

    /// Starts from an empty ledger.
    public init(ledger: Ledger = .standard()) { self.ledger = ledger }

    /// Applies one stored fact (not a derived event).
    ///
    /// - Throws: `LedgerError` if the stored fact does not decode or the ledger refuses it —
    ///   a log that no valid history produces.
    public mutating func apply(stored: StoredEvent) throws(LedgerError) -> Step {
        let events = try apply(seq: stored.seq, id: stored.id) { () throws(LedgerError) in try Self.decoded(stored) }
        return Step(stored: stored, rederived: events)
    }

    /// Applies the stored fact at `seq` whose fact and `recorded_at` `decoded` gives (decoded
    /// beforehand, perhaps on another thread); the seq is checked first. Returns what the
    /// ledger derived, the fact first.
    private mutating func apply(
        seq: UInt64,
        id: String,
        decoded: () throws(LedgerError) -> (fact: Fact, recordedAt: Timestamp)
    ) throws(LedgerError) -> [StoredEvent] {
        guard seq == ledger.head + 1 else {
            throw LedgerError(.badValue, "stored fact \(id) is at seq \(seq); the ledger expects \(ledger.head + 1)")
        }
        let (fact, recordedAt) = try decoded()
        return try ledger.apply(fact, recordedAt: recordedAt)
    }

    /// A stored fact's fact and `recorded_at`, decoded again.
    private static func decoded(_ stored: StoredEvent) throws(LedgerError) -> (fact: Fact, recordedAt: Timestamp) {
        let fact = try Self.fact(of: stored)
        guard let recordedText = stored.fields["recorded_at"]?.stringValue,
            let recordedAt = Timestamp(rfc3339: recordedText)
        else {
            throw LedgerError(.badValue, "stored event \(stored.id) has no valid recorded_at", field: "recorded_at")
        }
        return (fact, recordedAt)
    }

    /// The fact a stored event was made from: its client fields, decoded again.
    public static func fact(of stored: StoredEvent) throws(LedgerError) -> Fact {
        try FactDecoder.decode(object: stored.clientFields, now: Timestamp(millisecondsSinceEpoch: .max / 2))
    }

    /// Whether a stored event was derived by the daemon (it has a `cause`).
    public static func isDerived(_ stored: StoredEvent) -> Bool { stored.fields["cause"] != nil }

    /// Replays a whole log into a fresh ledger from seq 1, trusting what it derives and
    /// ignoring snapshots.
    ///
    /// - Parameter last: the seq to stop at (default and at most the head); it may fall inside
    ///   a fact's derivation, whose later events are then taken back (`Ledger.cut`).
    public static func replay(_ log: EventLog, through last: UInt64? = nil) throws -> Ledger {
        var replay = LedgerReplay()
        try replay.fold(log, through: min(last ?? .max, try log.head().seq))
        return replay.ledger
    }

    /// How ``restore(_:through:startingFrom:)`` rebuilt a ledger.
    public struct RestoreReport: Sendable, Hashable {
        /// The seq of the snapshot it started from; `nil` when it replayed from seq 1.
        public var snapshotSeq: UInt64?
        /// Events read from the log after the snapshot.
        public var replayedEvents: UInt64 = 0
        /// Newer snapshots it passed over, newest first, each with why (damaged, or a state
        /// that does not decode): a snapshot is a cache, the log is the truth.
        public var skipped: [SkippedSnapshot] = []
        /// The head of the ledger it was given to start from, when it started from that one
        /// (then `snapshotSeq` is `nil`).
        public var resumedFrom: UInt64?
    }

    /// A snapshot ``restore(_:through:startingFrom:)`` did not use.
    public struct SkippedSnapshot: Sendable, Hashable {
        /// Its seq.
        public var seq: UInt64
        /// Why it was not used, for a person.
        public var reason: String
    }

    /// Rebuilds the ledger as of `last` (default the head) from the newest usable snapshot at
    /// or before it and a replay of the log after it; from seq 1 if there is none.
    ///
    /// A snapshot is used only if its head hash matches the log's at its seq and its state
    /// decodes; otherwise the next older one (or a full replay) is, and the report says why.
    /// The ledger equals what ``replay(_:through:)`` gives, including an end inside a fact's
    /// derivation (snapshots are only taken between facts).
    ///
    /// - Parameter start: a ledger folded from this log (one this function returned), to go
    ///   on from instead of a snapshot when its head is at or before `last`, no snapshot lies
    ///   between the two, and it was not cut inside a derivation (``Ledger/isCut``):
    ///   answering as of a later seq than the one before then costs only the events between.
    /// - Returns: the ledger and how it was rebuilt. Keep the ledger alone: a report holds
    ///   no copy of it.
    public static func restore(
        _ log: EventLog,
        through last: UInt64? = nil,
        startingFrom start: Ledger? = nil
    ) throws -> (
        ledger: Ledger, report: RestoreReport
    ) {
        let end = min(last ?? .max, try log.head().seq)
        var report = RestoreReport()
        if let start, !start.isCut, start.head <= end,
            try log.snapshotSeqs().allSatisfy({ $0 <= start.head || $0 > end })
        {
            var replay = LedgerReplay(ledger: start)
            report.resumedFrom = start.head
            try replay.fold(log, through: end)
            report.replayedEvents = end - start.head
            return (replay.ledger, report)
        }
        var bound = end
        var replay = LedgerReplay()
        while let snapshot = try log.latestSnapshot(
            atOrBefore: bound,
            onDamaged: { seq, error in report.skipped.append(SkippedSnapshot(seq: seq, reason: error.message)) }
        ) {
            do {
                let ledger = try Ledger(
                    snapshot: snapshot.state,
                    sha256: Ledger.standardHasher,
                    fork: Ledger.onTwoThreads
                )
                guard ledger.head == snapshot.seq else {
                    throw Ledger.SnapshotError(
                        offset: 0,
                        reason: "its state is at seq \(ledger.head), not \(snapshot.seq)"
                    )
                }
                replay = LedgerReplay(ledger: ledger)
                report.snapshotSeq = snapshot.seq
                break
            } catch {
                report.skipped.append(SkippedSnapshot(seq: snapshot.seq, reason: "\(error)"))
                guard snapshot.seq > 1 else { break }
                bound = snapshot.seq - 1
            }
        }
        let first = replay.ledger.head
        try replay.fold(log, through: end)
        report.replayedEvents = end - first
        return (replay.ledger, report)
    }

    /// Applies the log's facts after the ledger's head through `end` (at most the head),
    /// trusting what they derive; an `end` inside a fact's derivation takes back its later events.
    ///
    /// The log is read in chunks; each chunk is decompressed, parsed and decoded back into
    /// facts on a thread of its own while the chunk before it is applied here, so that only
    /// applying is left to this thread (restoring after a crash, and each query below the
    /// head, replay this way).
    private mutating func fold(_ log: EventLog, through end: UInt64) throws {
        guard end > ledger.head else { return }
        var lastDerived: [StoredEvent] = []
        var start = ledger.head + 1
        var pending: Ahead<Result<[PreparedEvent], any Error>>? = Self.prepare(log, from: start, through: end)
        // A chunk still being read when this throws is waited for: the caller may close the log.
        defer { _ = pending?.wait() }
        while let chunk = pending {
            pending = nil
            let prepared = try chunk.wait().get()
            guard !prepared.isEmpty else {
                throw StoreError(.corrupted, "the log has no record at seq \(start)")
            }
            start += UInt64(prepared.count)
            if start <= end { pending = Self.prepare(log, from: start, through: end) }
            for event in prepared {
                switch event {
                case .derived: continue
                case .unreadable(let error): throw error
                case .fact(let seq, let id, let decoded):
                    lastDerived = try apply(seq: seq, id: id) { () throws(LedgerError) in try decoded.get() }
                }
            }
        }
        // `end` may fall inside the last fact's derivation: its later events are not yet in force.
        if let final = lastDerived.last, final.seq > end {
            ledger.cut(after: end, derived: Array(lastDerived.dropFirst()))
        }
    }

    /// A record read for ``fold(_:through:)``: a derived event (skipped), a stored fact with
    /// its fact and `recorded_at` decoded (or why they do not decode), or a body that is no
    /// stored event. Failures are kept in place, to be thrown when the replay reaches them.
    private enum PreparedEvent: Sendable {
        case derived
        case fact(seq: UInt64, id: String, Result<(fact: Fact, recordedAt: Timestamp), LedgerError>)
        case unreadable(any Error)
    }

    /// Starts reading the chunk of records from `start` (see ``EventLog/records(from:through:after:)``)
    /// on a thread of its own, parsing each and decoding each fact.
    private static func prepare(
        _ log: EventLog,
        from start: UInt64,
        through end: UInt64
    ) -> Ahead<Result<[PreparedEvent], any Error>> {
        Ahead(on: .ownThread) {
            Result {
                let records = try log.records(from: start, through: end)
                return Parallel.map(records.count) { index -> PreparedEvent in
                    let record = records[index]
                    let stored: StoredEvent
                    do {
                        stored = try StoredEvent(parsing: record.body)
                    } catch {
                        return .unreadable(error)
                    }
                    if isDerived(stored) { return .derived }
                    return .fact(
                        seq: stored.seq,
                        id: stored.id,
                        Result { () throws(LedgerError) in try decoded(stored) }
                    )
                }
            }
        }
    }
}
