import RefLedgerCore
import RefLedgerStore
import Synchronization

/// The ledgers of the last queries below the head, kept for the next ones.
///
/// A query as of a past seq needs the ledger at that seq: the newest snapshot at or before it
/// and a replay of the log after it, up to seconds on a long log. Analysts ask several
/// questions of one point (each participant, metrics, the leaderboard), walk forward through
/// the log (the end of each day), or compare two points: a seq kept is answered from its
/// ledger at once, and a later one replays only the events after the nearest kept ledger
/// below it (``LedgerReplay/restore(_:through:startingFrom:)``).
///
/// The log below the head never changes, so a kept ledger never goes stale. At most
/// `capacity` are kept, the least recently used dropped first: between queries, up to that
/// many ledgers' memory beside the writer's (while a query makes its own, that one too).
final class AsOfLedgers: Sendable {
    private struct Kept: Sendable {
        var seq: UInt64
        var ledger: Ledger
    }

    private let capacity: Int
    /// Least recently used first.
    private let kept = Mutex<[Kept]>([])

    /// Keeps at most `capacity` ledgers (0: none).
    init(keeping capacity: Int) { self.capacity = max(0, capacity) }

    /// The ledger as of `seq` (at most the log's head), and how it was made: `nil` when a kept
    /// one was at that seq.
    func ledger(of log: EventLog, asOf seq: UInt64) throws -> (ledger: Ledger, report: LedgerReplay.RestoreReport?) {
        let (hit, start) = kept.withLock { kept -> (Ledger?, Ledger?) in
            if let index = kept.firstIndex(where: { $0.seq == seq }) {
                let hit = kept.remove(at: index)
                kept.append(hit)
                return (hit.ledger, nil)
            }
            // A ledger cut inside a derivation cannot be folded on (`restore` would not).
            let below = kept.filter { !$0.ledger.isCut && $0.seq < seq }.max { $0.seq < $1.seq }
            return (nil, below?.ledger)
        }
        if let hit { return (hit, nil) }
        // Read on this thread alone: reading ahead on every core made three such queries in a
        // row ~12% faster, but beside them ingest fell by 40% and its p99 doubled.
        let (ledger, report) = try LedgerReplay.restore(log, through: seq, startingFrom: start, readingAhead: false)
        if capacity > 0 {
            kept.withLock { kept in
                // Another query may have kept this seq meanwhile.
                kept.removeAll { $0.seq == seq }
                kept.append(Kept(seq: seq, ledger: ledger))
                if kept.count > capacity { kept.removeFirst(kept.count - capacity) }
            }
        }
        return (ledger, report)
    }
}
