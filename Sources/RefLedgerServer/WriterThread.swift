import Foundation
import Logging
import RefLedgerCore
import RefLedgerStore
import Synchronization

/// The single writer with group commit: one dedicated `Thread` (not an event loop, not a
/// Swift concurrency thread) owns the ``LedgerWriter``.
///
/// Requests enqueue their decoded facts with a continuation. The thread takes everything
/// queued (whole requests, up to ``DaemonConfiguration/maxFactsPerCommit`` facts), judges each
/// fact in order, commits once (one durable LMDB transaction), then resumes every waiting
/// request with its outcomes — so an answer is never sent before its commit returned — and
/// wakes the follow streams. The queue is bounded: a request that would pass
/// ``DaemonConfiguration/maxQueuedFacts`` is refused at once (503 `overloaded`).
///
/// Readers see only committed state: ``committedHead`` moves after each commit, and queries at
/// the head run through ``read(_:)`` on this thread between two commits, when the writer's
/// ledger is exactly the committed state (at most ``readsPerRound`` of them before the next
/// commit, so queries cannot starve ingest). No copy of the ledger is kept for reads: a copy
/// alive across a commit would make the next mutation copy every dictionary it touches —
/// measured at ~0.2 s per commit with 300,000 participants — while a query costs what it reads.
///
/// Snapshots: after a commit that brings the events committed since the last snapshot to
/// ``DaemonConfiguration/snapshotEveryEvents``, the thread takes a copy of the committed
/// ledger and copies its tables' indexes at once (``LedgerWriter/committedCopy()``: the one
/// stall, measured as `refledger_snapshot_stall_seconds`; the chunks of keys and values are
/// copied one by one as facts change them), and a background thread of lower priority
/// serializes, compresses and stores the copy while ingest goes on. Serializing on this
/// thread instead would stall it longer (the ingest benchmark measures both). A tail of at
/// least ``DaemonConfiguration/idleSnapshotMinimumEvents`` is also snapshotted once no commit
/// came for ``DaemonConfiguration/idleSnapshotSeconds``, so that a crash after a burst of
/// writes replays little though the burst stopped short of the next snapshot. At graceful stop
/// it waits for that thread and snapshots the final state itself, so a restart replays nothing.
final class WriterThread: @unchecked Sendable {
    // Snapshots: WriterThread+Snapshots.swift (which is why the state they share is internal,
    // not private).
    // @unchecked: every mutable property is guarded by `condition`, except `writer`,
    // `brokenReason`, `snapshotSeq` and `lastCommitUptimeNanos`, which only the writer thread
    // touches after `start()`, and `committedHeadValue`, an atomic.

    private struct Job {
        var facts: [Fact]
        var continuation: CheckedContinuation<[WriteOutcome]?, Never>
    }

    private enum RunState { case running, stopping, stopped }

    /// A query of the committed ledger, run on the writer thread between commits.
    private typealias ReadJob = @Sendable (borrowing Ledger, UInt64) -> Void

    /// Queries run between two commits, at most.
    static let readsPerRound = 32

    let writer: LedgerWriter
    let log: EventLog
    let configuration: DaemonConfiguration
    let metrics: DaemonMetrics
    private let hub: CommitHub
    let logger: Logger

    let condition = MonotonicCondition()
    private var jobs: [Job] = []
    private var queuedFacts = 0
    private var reads: [ReadJob] = []
    private var runState = RunState.running
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    /// Set when a failed commit left the writer unusable: every later fact is refused.
    var brokenReason: String?
    private let committedHeadValue: Atomic<UInt64>
    /// The seq of the last snapshot taken, or loaded at start (0: none).
    var snapshotSeq: UInt64
    /// Whether a background thread is writing a snapshot.
    var snapshotRunning = false
    /// When the writer last committed (or started), on the uptime clock: idle snapshots are
    /// timed from it.
    var lastCommitUptimeNanos = DispatchTime.now().uptimeNanoseconds

    init(
        writer: LedgerWriter,
        configuration: DaemonConfiguration,
        metrics: DaemonMetrics,
        hub: CommitHub,
        logger: Logger
    )
        throws
    {
        self.writer = writer
        self.log = writer.log
        self.configuration = configuration
        self.metrics = metrics
        self.hub = hub
        self.logger = logger
        let head = try writer.log.head().seq
        committedHeadValue = Atomic(head)
        snapshotSeq = writer.restoreReport.snapshotSeq ?? 0
    }

    /// The seq of the last committed event.
    var committedHead: UInt64 { committedHeadValue.load(ordering: .acquiring) }

    /// Starts the thread.
    func start() {
        NamedThread.start("ledger-writer") { [self] in runLoop() }
    }

    /// Hands `facts` to the writer and waits until they are judged and committed.
    ///
    /// - Parameter beyondLimit: admit even when the queue is full (the later parts of a batch
    ///   whose first part was admitted); the part is still at most one chunk.
    /// - Returns: one outcome per fact, in order; `nil` when the queue is full or the writer
    ///   is stopping (answer 503 `overloaded`).
    func submit(_ facts: [Fact], beyondLimit: Bool = false) async -> [WriteOutcome]? {
        if facts.isEmpty { return [] }
        return await withCheckedContinuation { continuation in
            condition.lock()
            guard runState == .running,
                beyondLimit || queuedFacts + facts.count <= configuration.maxQueuedFacts
            else {
                condition.unlock()
                continuation.resume(returning: nil)
                return
            }
            jobs.append(Job(facts: facts, continuation: continuation))
            queuedFacts += facts.count
            // Set under the lock, so that the last depth set is the current one.
            metrics.queueDepth(queuedFacts)
            condition.signal()
            condition.unlock()
        }
    }

    /// Runs `body` on the writer thread with the committed ledger and its head seq, between
    /// two commits, and returns what it returns; `nil` once the writer has stopped.
    ///
    /// `body` must not keep the ledger (a copy alive across a commit makes the writer copy it).
    func read<Value: Sendable>(_ body: @escaping @Sendable (borrowing Ledger, UInt64) -> Value) async -> Value? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
            condition.lock()
            guard runState != .stopped else {
                condition.unlock()
                continuation.resume(returning: nil)
                return
            }
            reads.append { ledger, seq in continuation.resume(returning: body(ledger, seq)) }
            condition.signal()
            condition.unlock()
        }
    }

    /// Stops taking requests, lets the thread commit what is queued, and waits for it to end.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if runState == .stopped {
                condition.unlock()
                continuation.resume()
                return
            }
            runState = .stopping
            stopWaiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    // MARK: - The thread

    private func runLoop() {
        // A damaged snapshot passed over at start is replaced at once.
        let damaged = !writer.restoreReport.skipped.isEmpty
        snapshotIfDue(force: damaged, reason: damaged ? "replacing a damaged one" : "periodic")
        while true {
            condition.lock()
            while hasNothingToDo {
                guard let remaining = idleSnapshotSecondsRemaining() else {
                    condition.wait()
                    continue
                }
                if remaining > 0 {
                    // Woken before the time, or not: the loop looks again.
                    _ = condition.wait(seconds: remaining)
                    continue
                }
                condition.unlock()
                snapshotIfDue(force: true, reason: "idle")
                condition.lock()
            }
            let readCount = min(reads.count, Self.readsPerRound)
            let readJobs = Array(reads.prefix(readCount))
            reads.removeFirst(readCount)
            var taken = 0
            var factCount = 0
            while taken < jobs.count,
                factCount == 0 || factCount + jobs[taken].facts.count <= configuration.maxFactsPerCommit
            {
                factCount += jobs[taken].facts.count
                taken += 1
            }
            let batch = Array(jobs.prefix(taken))
            jobs.removeFirst(taken)
            queuedFacts -= factCount
            if !batch.isEmpty { metrics.queueDepth(queuedFacts) }
            let finished = batch.isEmpty && readJobs.isEmpty && runState == .stopping
            condition.unlock()

            // Between commits the writer's ledger is exactly the committed state.
            let head = committedHead
            for job in readJobs { job(writer.ledger, head) }
            if finished { break }
            if !batch.isEmpty {
                process(batch, factCount: factCount)
                lastCommitUptimeNanos = DispatchTime.now().uptimeNanoseconds
                snapshotIfDue()
            }
        }
        finalSnapshot()
        condition.lock()
        runState = .stopped
        let lateReads = reads
        reads.removeAll()
        let stopped = stopWaiters
        stopWaiters.removeAll()
        condition.unlock()
        let head = committedHead
        for job in lateReads { job(writer.ledger, head) }
        for waiter in stopped { waiter.resume() }
    }

    /// Whether no job, read or stop waits for the thread. Called with `condition` locked.
    private var hasNothingToDo: Bool { jobs.isEmpty && reads.isEmpty && runState == .running }

    /// Judges every fact of `batch` in order, commits once, answers every job.
    private func process(_ batch: [Job], factCount: Int) {
        var outcomes: [[WriteOutcome]] = []
        outcomes.reserveCapacity(batch.count)
        // One read transaction for every id of the batch; should it fail, each fact looks
        // its own id up (and reports what goes wrong).
        var ids: [String] = []
        ids.reserveCapacity(factCount)
        for job in batch {
            // Read in place: mapping over the facts copied each whole fact to take its id.
            job.facts.withUnsafeBufferPointer { facts in
                for index in facts.indices { ids.append(facts[index].id) }
            }
        }
        try? writer.prefetch(ids: ids)
        for (jobIndex, job) in batch.enumerated() {
            var results: [WriteOutcome] = []
            results.reserveCapacity(job.facts.count)
            // Read through a buffer. Both calls below still copy the fact they are given (every
            // field retained), as the disassembly shows; moving each fact out of the list and back
            // instead saved ~0.4% of this thread's instructions (callgrind, 40,000 facts posted),
            // not worth unsafe moves.
            job.facts.withUnsafeBufferPointer { facts in
                for index in facts.indices {
                    if let brokenReason {
                        results.append(.rejected(LedgerError(.storageFull, brokenReason, id: facts[index].id)))
                        continue
                    }
                    // The next fact's state starts loading while this one is judged.
                    if index + 1 < facts.count {
                        writer.prefetchState(for: facts[index + 1])
                    } else if jobIndex + 1 < batch.count, let next = batch[jobIndex + 1].facts.first {
                        writer.prefetchState(for: next)
                    }
                    switch writer.submit(facts[index], recordedAt: writer.clock()) {
                    case .created(let events): results.append(.created(events: events, committed: []))
                    case .duplicate(let seq): results.append(.duplicate(seq: seq))
                    case .rejected(let error): results.append(.rejected(error))
                    }
                }
            }
            outcomes.append(results)
        }
        if configuration.commitDelayMillis > 0 { usleep(UInt32(configuration.commitDelayMillis) * 1000) }
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let committed = try writer.commit()
            attach(committed, to: &outcomes)
            let head = committedHead + UInt64(committed.count)
            committedHeadValue.store(head, ordering: .releasing)
            metrics.committed(facts: factCount, nanoseconds: DispatchTime.now().uptimeNanoseconds - start, head: head)
            hub.publish(head: head)
        } catch {
            fail(&outcomes, batch, error)
        }
        for (job, results) in zip(batch, outcomes) { job.continuation.resume(returning: results) }
    }

    /// Gives each created outcome the committed bodies and links of its events (in seq order).
    private func attach(_ committed: [LedgerWriter.Committed], to outcomes: inout [[WriteOutcome]]) {
        var next = 0
        // Events stored, by type: counted here, then added to the metrics once a type.
        var tally = TypeTally()
        for jobIndex in outcomes.indices {
            for index in outcomes[jobIndex].indices {
                guard case .created(let events, _) = outcomes[jobIndex][index] else { continue }
                let end = min(next + events.count, committed.count)
                outcomes[jobIndex][index] = .created(events: events, committed: committed[next..<end])
                for event in events { tally.count(event.type) }
                next = end
            }
        }
        for (type, count) in tally.counts { metrics.stored(type: type, count: count) }
        assert(next == committed.count, "every staged event belongs to one created fact")
    }

    /// Counts by event type: a handful of types, found by comparing (short, inline) strings.
    private struct TypeTally {
        var counts: [(type: String, count: Int)] = []

        mutating func count(_ type: String) {
            if let index = counts.firstIndex(where: { $0.type == type }) {
                counts[index].count += 1
            } else {
                counts.append((type, 1))
            }
        }
    }

    /// After a failed commit nothing of the batch is stored: every fact that was created, or
    /// was judged against the staged facts, is answered with the commit's error instead.
    private func fail(_ outcomes: inout [[WriteOutcome]], _ batch: [Job], _ error: any Error) {
        let head = (try? log.head().seq) ?? committedHead
        let message = "the commit failed, nothing of it was stored: \(error)"
        logger.error("commit failed", metadata: ["error": "\(error)", "seq": "\(head)"])
        for jobIndex in outcomes.indices {
            for index in outcomes[jobIndex].indices {
                let outcome = outcomes[jobIndex][index]
                if case .duplicate(let seq) = outcome, seq <= head { continue }
                let id = batch[jobIndex].facts[index].id
                outcomes[jobIndex][index] = .rejected(LedgerError(.storageFull, message, id: id))
            }
        }
        // The writer rebuilt its ledger from the log; if that failed too, it cannot go on.
        if writer.ledger.head != head || writer.stagedCount != 0 {
            brokenReason = "the writer could not recover from a failed commit (\(error)); restart the daemon"
            logger.critical("writer unusable after a failed commit", metadata: ["error": "\(error)"])
        }
    }
}
