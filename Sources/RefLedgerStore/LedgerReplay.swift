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

    /// A stored fact's fact and `recorded_at` decoded again, or why they do not decode.
    typealias Decoded = Result<(fact: Fact, recordedAt: Timestamp), LedgerError>

    /// For a stored fact, its fact and `recorded_at` decoded again (``decoded(_:)``); `nil`
    /// for a derived event.
    static func decodedFact(of stored: StoredEvent) -> Decoded? {
        isDerived(stored) ? nil : Result { () throws(LedgerError) in try decoded(stored) }
    }

    /// A stored fact's fact and `recorded_at`, decoded again.
    static func decoded(_ stored: StoredEvent) throws(LedgerError) -> (fact: Fact, recordedAt: Timestamp) {
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
    /// - Parameter readingAhead: whether the log is read ahead on other threads
    ///   (``fold(_:through:readingAhead:)``): faster, but it takes every core. A daemon
    ///   answering a query while it ingests passes `false`, so that the query takes one core
    ///   and leaves the writer the other.
    /// - Returns: the ledger and how it was rebuilt. Keep the ledger alone: a report holds
    ///   no copy of it.
    public static func restore(
        _ log: EventLog,
        through last: UInt64? = nil,
        startingFrom start: Ledger? = nil,
        readingAhead: Bool = true
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
            try replay.fold(log, through: end, readingAhead: readingAhead)
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
        try replay.fold(log, through: end, readingAhead: readingAhead)
        report.replayedEvents = end - first
        return (replay.ledger, report)
    }

    /// Applies the log's facts after the ledger's head through `end` (at most the head),
    /// trusting what they derive; an `end` inside a fact's derivation takes back its later events.
    ///
    /// Reading ahead, only applying is left to this thread: the records are read, parsed and
    /// decoded back into facts ahead of it, on every core
    /// (``readAhead(_:from:through:prepare:_:)``); otherwise this thread does it all.
    private mutating func fold(_ log: EventLog, through end: UInt64, readingAhead: Bool = true) throws {
        guard end > ledger.head else { return }
        var lastDerived: [StoredEvent] = []
        func applyPrepared(_ event: PreparedEvent) throws {
            switch event {
            case .derived: return
            case .unreadable(let error): throw error
            case .fact(let seq, let id, let decoded):
                lastDerived = try self.apply(seq: seq, id: id) { () throws(LedgerError) in try decoded.get() }
            }
        }
        if readingAhead {
            try Self.readAhead(log, from: ledger.head + 1, through: end, prepare: PreparedEvent.init) { chunk in
                for event in chunk { try applyPrepared(event) }
            }
        } else {
            try log.scan(from: ledger.head + 1, through: end) { record in try applyPrepared(PreparedEvent(record)) }
        }
        // `end` may fall inside the last fact's derivation: its later events are not yet in force.
        if let final = lastDerived.last, final.seq > end {
            ledger.cut(after: end, derived: Array(lastDerived.dropFirst()))
        }
    }

    /// A record read for ``fold(_:through:readingAhead:)``: a derived event (skipped), a stored
    /// fact with its fact and `recorded_at` decoded (or why they do not decode), or a body that
    /// is no stored event. Failures are kept in place, to be thrown when the replay reaches them.
    /// Leaner than ``PreparedStored``, which the verifier needs whole: the parsed event and the
    /// record are released on the thread that prepared them, not on the one that applies.
    private enum PreparedEvent: Sendable {
        case derived
        case fact(seq: UInt64, id: String, Decoded)
        case unreadable(any Error)

        init(_ record: EventLog.StoredRecord) {
            let stored: StoredEvent
            do {
                stored = try StoredEvent(parsing: record.body)
            } catch {
                self = .unreadable(error)
                return
            }
            if let decoded = LedgerReplay.decodedFact(of: stored) {
                self = .fact(seq: stored.seq, id: stored.id, decoded)
            } else {
                self = .derived
            }
        }
    }

    /// A stored record parsed, and for a stored fact its fact and `recorded_at` decoded: what
    /// the verifier reads ahead (``readAhead(_:from:through:prepare:_:)``).
    struct PreparedStored: Sendable {
        let record: EventLog.StoredRecord
        /// The stored event, or why the body is none.
        let parsed: Result<StoredEvent, any Error>
        /// For a stored fact, its fact and `recorded_at` (or why they do not decode); `nil` for
        /// a derived event or a body that does not parse.
        let decoded: Decoded?

        init(_ record: EventLog.StoredRecord) {
            self.record = record
            parsed = Result { try StoredEvent(parsing: record.body) }
            guard case .success(let stored) = parsed else {
                decoded = nil
                return
            }
            decoded = LedgerReplay.decodedFact(of: stored)
        }
    }

    /// Applies a stored fact whose fact was decoded ahead (``PreparedStored``).
    mutating func apply(
        _ stored: StoredEvent,
        decoded: Decoded
    ) throws(LedgerError) -> Step {
        let events = try apply(seq: stored.seq, id: stored.id) { () throws(LedgerError) in try decoded.get() }
        return Step(stored: stored, rederived: events)
    }

    /// Hands `consume` the records from `start` through `end` (at most the head), a chunk at
    /// a time and in seq order, each record turned into what `prepare` makes of it.
    ///
    /// Each chunk (``EventLog/records(from:through:after:)``) is read, decompressed and
    /// prepared on other threads — `prepare` on every core — while `consume` works on the
    /// chunk before it. `prepare` must keep its failures in what it returns, for `consume` to
    /// meet them in order. A chunk still being read when `consume` throws is waited for, so
    /// that the caller may close the log.
    static func readAhead<Prepared: Sendable>(
        _ log: EventLog,
        from start: UInt64,
        through end: UInt64,
        prepare: @escaping @Sendable (EventLog.StoredRecord) -> Prepared,
        _ consume: ([Prepared]) throws -> Void
    ) throws {
        @Sendable func chunk(from first: UInt64) -> Ahead<Result<[Prepared], any Error>> {
            Ahead(on: .ownQueue) {
                Result {
                    let records = try log.records(from: first, through: end)
                    return Parallel.map(records.count) { prepare(records[$0]) }
                }
            }
        }
        var next = max(start, 1)
        var pending = next <= end ? chunk(from: next) : nil
        defer { _ = pending?.wait() }
        while let reading = pending {
            pending = nil
            let prepared = try reading.wait().get()
            // A chunk from a seq not past `end` holds at least that record (or its read threw).
            precondition(!prepared.isEmpty, "an empty chunk from seq \(next)")
            next += UInt64(prepared.count)
            if next <= end { pending = chunk(from: next) }
            try consume(prepared)
        }
    }
}
