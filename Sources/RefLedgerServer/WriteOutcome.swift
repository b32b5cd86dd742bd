public import RefLedgerCore
public import RefLedgerStore

/// What the writer did with one submitted fact, once its commit returned.
public enum WriteOutcome: Sendable {
    /// Stored: the fact and the events it derived, each with its stored body and place in the
    /// chain (the `i`th of `committed` belongs to `events[i]`): a slice of the whole commit's.
    case created(events: [StoredEvent], committed: ArraySlice<LedgerWriter.Committed>)
    /// The same fact is stored at this seq already; nothing new was stored.
    case duplicate(seq: UInt64)
    /// Refused (or lost with a failed commit); nothing was stored.
    case rejected(LedgerError)
}
