import Foundation
import RefLedgerCore
import RefLedgerStore

/// The writer thread's snapshots: periodic and idle ones in the background, the final one at
/// graceful stop (see ``WriterThread``). Only the writer thread calls these.
extension WriterThread {
    /// Whether the ledger is the committed state and may be snapshotted.
    private var ledgerIsCommitted: Bool {
        brokenReason == nil && writer.stagedCount == 0 && writer.ledger.head == committedHead
    }

    /// How long the writer, waiting for work, should still wait before it snapshots the tail
    /// for being idle (0 or less: now), on the uptime clock; `nil` when it should not (idle
    /// snapshots off, a short tail, a snapshot under way). Called with `condition` locked.
    func idleSnapshotSecondsRemaining() -> Double? {
        let idleSeconds = configuration.idleSnapshotSeconds
        guard idleSeconds > 0, !snapshotRunning, ledgerIsCommitted,
            committedHead >= snapshotSeq + configuration.idleSnapshotMinimumEvents
        else { return nil }
        let elapsedNanos = DispatchTime.now().uptimeNanoseconds - lastCommitUptimeNanos
        return Double(idleSeconds) - Double(elapsedNanos) / 1e9
    }

    /// Starts a background snapshot when enough events were committed since the last one
    /// (or when `force`d), unless one is still being written.
    func snapshotIfDue(force: Bool = false, reason: String = "periodic") {
        let head = committedHead
        guard head > snapshotSeq, force || head - snapshotSeq >= UInt64(configuration.snapshotEveryEvents),
            ledgerIsCommitted
        else { return }
        condition.lock()
        let running = snapshotRunning
        snapshotRunning = true
        condition.unlock()
        guard !running else { return }
        snapshotSeq = head
        let start = DispatchTime.now().uptimeNanoseconds
        let copy = writer.committedCopy()
        metrics.snapshotTaken(stallNanoseconds: DispatchTime.now().uptimeNanoseconds - start)
        NamedThread.start("ledger-snapshot") { [self] in
            #if os(Linux)
            // Nice 10 for this thread alone: the snapshot may take longer, ingest should not.
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            writeSnapshot(of: copy, reason: reason)
            condition.lock()
            snapshotRunning = false
            condition.broadcast()
            condition.unlock()
        }
    }

    /// At graceful stop: waits for a background snapshot, then snapshots the final state.
    func finalSnapshot() {
        condition.lock()
        while snapshotRunning { condition.wait() }
        condition.unlock()
        guard committedHead > snapshotSeq, ledgerIsCommitted else { return }
        snapshotSeq = committedHead
        // Nothing else runs now: the encoding may take both cores.
        writeSnapshot(of: writer.ledger, fork: Ledger.onTwoThreads, reason: "shutdown")
    }

    /// Writes a snapshot; a failure is logged and otherwise harmless (the log is the truth).
    /// In the background, beside the writer, the encoding keeps to one thread (the default).
    private func writeSnapshot(of ledger: Ledger, fork: Ledger.Fork = Ledger.oneAfterTheOther, reason: String) {
        do {
            // Idle snapshots after short bursts do not push out the snapshot a periodic interval
            // or so below them (see `keepingOlderAtLeast`).
            let written = try log.writeSnapshot(
                of: ledger,
                fork: fork,
                keepingOlderAtLeast: UInt64(configuration.snapshotEveryEvents)
            )
            metrics.snapshotWritten(written)
            logger.info(
                "snapshot written",
                metadata: [
                    "seq": "\(written.seq)", "reason": "\(reason)", "bytes": "\(written.storedBytes)",
                    "encode_s": "\(written.encodeSeconds)", "write_s": "\(written.writeSeconds)",
                ]
            )
        } catch {
            logger.warning("snapshot failed", metadata: ["seq": "\(ledger.head)", "error": "\(error)"])
        }
    }
}
