import RefLedgerCore
import RefLedgerStore
import Synchronization

/// The ledger of the last query below the head, kept for the next one.
///
/// A query as of a past seq needs the ledger at that seq: the newest snapshot at or before it
/// and a replay of the log after it, up to seconds on a long log. Analysts ask several
/// questions of one point (each participant, metrics, the leaderboard), or walk forward
/// through the log (the end of each day): the same seq is then answered from the kept ledger
/// at once, and a later one replays only the events after it (``LedgerReplay/restore(_:through:startingFrom:)``).
///
/// The log below the head never changes, so a kept ledger never goes stale. One is kept, the
/// last one made: between queries, at most one ledger's memory beside the writer's (while a
/// query makes its own, that one too, as before any was kept).
final class AsOfLedgers: Sendable {
    private struct Kept: Sendable {
        var seq: UInt64
        var ledger: Ledger
        /// Whether `seq` ended a fact's derivation, so that later facts may be folded on.
        var foldable: Bool
    }

    private let kept = Mutex<Kept?>(nil)

    /// The ledger as of `seq` (at most the log's head), and how it was made: `nil` when the
    /// kept one was at that seq.
    func ledger(of log: EventLog, asOf seq: UInt64) throws -> (ledger: Ledger, report: LedgerReplay.RestoreReport?) {
        let last = kept.withLock { $0 }
        if let last, last.seq == seq { return (last.ledger, nil) }
        let start = last.flatMap { $0.foldable && $0.seq < seq ? $0.ledger : nil }
        let (ledger, report) = try LedgerReplay.restore(log, through: seq, startingFrom: start)
        kept.withLock { $0 = Kept(seq: seq, ledger: ledger, foldable: !report.endsInsideDerivation) }
        return (ledger, report)
    }
}
