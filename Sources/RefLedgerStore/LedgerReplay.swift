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
        guard stored.seq == ledger.head + 1 else {
            throw LedgerError(
                .badValue,
                "stored fact \(stored.id) is at seq \(stored.seq); the ledger expects \(ledger.head + 1)"
            )
        }
        let fact = try Self.fact(of: stored)
        guard let recordedText = stored.fields["recorded_at"]?.stringValue,
            let recordedAt = Timestamp(rfc3339: recordedText)
        else {
            throw LedgerError(.badValue, "stored event \(stored.id) has no valid recorded_at", field: "recorded_at")
        }
        let events = try ledger.apply(fact, recordedAt: recordedAt)
        return Step(stored: stored, rederived: events)
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
    private mutating func fold(_ log: EventLog, through end: UInt64) throws {
        guard end > ledger.head else { return }
        var last: Step?
        try log.scan(from: ledger.head + 1, through: end) { record in
            let stored = try StoredEvent(parsing: record.body)
            if !Self.isDerived(stored) { last = try apply(stored: stored) }
        }
        // `end` may fall inside the last fact's derivation: its later events are not yet in force.
        if let last, let final = last.rederived.last, final.seq > end {
            ledger.cut(after: end, derived: Array(last.rederived.dropFirst()))
        }
    }
}
