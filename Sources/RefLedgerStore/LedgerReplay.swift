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
            throw LedgerError(.badValue, "stored fact \(stored.id) is at seq \(stored.seq); the ledger expects \(ledger.head + 1)")
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

    /// Replays a whole log into a fresh ledger, trusting what it derives.
    public static func replay(_ log: EventLog, through last: UInt64? = nil) throws -> Ledger {
        var replay = LedgerReplay()
        let head = try log.head().seq
        let end = min(last ?? head, head)
        guard end > 0 else { return replay.ledger }
        var last: Step?
        try log.scan(from: 1, through: end) { record in
            let stored = try StoredEvent(parsing: record.body)
            if !isDerived(stored) { last = try replay.apply(stored: stored) }
        }
        // `end` may fall inside the last fact's derivation: its later events are not yet in force.
        if let last, let final = last.rederived.last, final.seq > end {
            replay.ledger.cut(after: end, derived: Array(last.rederived.dropFirst()))
        }
        return replay.ledger
    }
}
