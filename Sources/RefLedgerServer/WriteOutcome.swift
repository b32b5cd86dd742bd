public import RefLedgerCore
public import RefLedgerStore

/// What the writer did with one submitted fact, once its commit returned.
public enum WriteOutcome: Sendable {
    /// Stored: the fact and the events it derived, each with its place in the chain
    /// (`links[i]` belongs to `events[i]`).
    case created(events: [StoredEvent], links: [EventLog.Link])
    /// The same fact is stored at this seq already; nothing new was stored.
    case duplicate(seq: UInt64)
    /// Refused (or lost with a failed commit); nothing was stored.
    case rejected(LedgerError)
}
