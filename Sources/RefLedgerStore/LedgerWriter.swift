import Foundation
public import RefLedgerCore

/// The single writer: judges facts in order (decode → idempotency → ledger), stages what
/// they store, and appends a whole batch in one durable transaction.
///
/// Facts of a batch see the facts staged before them. Nothing is visible in the log until
/// ``commit()`` returns; a failed commit leaves the log as it was and the writer rebuilt from
/// it, so every staged fact of that batch must be answered with the error.
///
/// Batches may also be written on other threads while the next ones are judged
/// (``commitInBackground()``), one after the other: the facts judged meanwhile see the batches
/// under way as staged. Should one fail, the batches after it and the facts staged since are
/// dropped with it, since they were judged on top of it.
///
/// Not thread-safe: one thread (the writer's) uses it.
public final class LedgerWriter {
    /// What happened to one submitted fact.
    public enum Outcome: Sendable {
        /// Stored (once committed): the fact and the events it derived, without chain members.
        case created([StoredEvent])
        /// The same fact was stored before, at this seq; nothing new is stored.
        case duplicate(seq: UInt64)
        /// Refused; nothing stored.
        case rejected(LedgerError)
    }

    /// The log written to.
    public let log: EventLog
    /// The ledger state, including staged facts.
    public private(set) var ledger: Ledger
    /// The clock that stamps `recorded_at` and judges `future_time`.
    public let clock: @Sendable () -> Timestamp

    /// Events staged for the next commit; written out as canonical JSON at commit.
    private var staged: [StoredEvent] = []
    /// Client fields and seq of staged facts, by id, for idempotency within a batch.
    private var stagedFacts = KeyedTable<StagedFact>()
    private typealias StagedFact = (seq: UInt64, client: JSONObject)

    /// The batches being written on other threads (``commitInBackground()``), oldest first.
    private var inFlight: [InFlightBatch] = []
    /// A batch being written: its facts, for idempotency, and the result to wait for.
    private typealias InFlightBatch = (facts: KeyedTable<StagedFact>, result: Ahead<Result<Void, any Error>>)

    /// How many batches may be under way in the background at once; the next waits for the
    /// oldest. With two, a batch's canonical bodies are written while the batch before is
    /// compressed, hashed and synced (measured: 1M-fact import 4–8% faster in wall time, for
    /// ~6% more CPU).
    public let maxBatchesInFlight = 2
    /// Where background batches are written, in the order they were handed over.
    private let commitQueue = DispatchQueue(label: "refledger.commit")

    /// Ids looked up ahead by ``prefetch(ids:)``, each with its seq when the log holds it; ids
    /// committed since get theirs, so the answers stay true (only this writer changes the log).
    private var prefetched = KeyedTable<UInt64?>()

    /// How the ledger was rebuilt from the log: when the writer opened, or after a failed
    /// commit.
    public private(set) var restoreReport: LedgerReplay.RestoreReport

    /// Opens a writer over `log`, restoring its ledger from the newest usable snapshot and the
    /// log after it (``LedgerReplay/restore(_:through:startingFrom:)``).
    public init(log: EventLog, clock: @escaping @Sendable () -> Timestamp = Timestamp.now) throws {
        self.log = log
        self.clock = clock
        (ledger, restoreReport) = try LedgerReplay.restore(log)
    }

    /// Events staged and not yet committed.
    public var stagedCount: Int { staged.count }

    /// Whether batches are being written on other threads (``commitInBackground()``).
    public var isCommitting: Bool { !inFlight.isEmpty }

    /// A copy of the committed ledger, to snapshot on another thread while this one goes on.
    ///
    /// A copy shares its storage with the writer's ledger until either changes; the writer's
    /// ledger is made to copy now what a change would copy whole (`Ledger.detach()`: the
    /// tables' indexes), so that this one call — not the next facts — pays for that; the next
    /// facts copy only the chunks of keys and values they change. Call it only with nothing
    /// staged.
    public func committedCopy() -> Ledger {
        precondition(staged.isEmpty && inFlight.isEmpty, "a snapshot is of committed state: commit first")
        let copy = ledger
        ledger.detach()
        return copy
    }

    /// Judges one fact given as JSON bytes (a body or an NDJSON line without its newline).
    public func submit(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        let now = clock()
        do {
            return try submit(FactDecoder.decode(bytes, now: now), recordedAt: now)
        } catch {
            return .rejected(error)
        }
    }

    /// Looks up in one read transaction which of the facts with these `ids` the log already
    /// holds, so that submitting them needs no look-up of its own. Worth it for runs of facts
    /// (a batch, an import); replaces what the previous call looked up.
    public func prefetch(ids: [String]) throws {
        let stored = try log.seqs(forIDs: ids)
        var table = KeyedTable<UInt64?>()
        table.reserveCapacity(ids.count)
        for (id, seq) in zip(ids, stored) { _ = table.addIfAbsent(seq, forKey: id) }
        prefetched = table
    }

    /// Starts bringing into the cache the state the fact submitted next will look up: its id's
    /// slots in the idempotency tables, and the ledger's (``Ledger/prefetch(_:)``). Call it
    /// before submitting the current fact.
    public func prefetchState(for next: Fact) {
        let id = KeyedTable<StagedFact>.hash(next.id)
        // The addresses first, then the hints (see `prefetchCacheLine`).
        let staged = stagedFacts.slotAddress(hash: id)
        let lookedUp = prefetched.slotAddress(hash: id)
        prefetchCacheLine(staged)
        prefetchCacheLine(lookedUp)
        for batch in inFlight { prefetchCacheLine(batch.facts.slotAddress(hash: id)) }
        ledger.prefetch(next)
    }

    /// Judges one decoded fact: idempotency, then the ledger; stages what it stores.
    public func submit(_ fact: Fact, recordedAt: Timestamp) -> Outcome {
        do {
            if let seq = try existing(fact) { return .duplicate(seq: seq) }
            let events = try ledger.apply(fact, recordedAt: recordedAt)
            staged.append(contentsOf: events)
            // Not staged yet: `existing` found no fact with this id.
            _ = stagedFacts.addIfAbsent((events[0].seq, fact.clientFields), forKey: fact.id)
            return .created(events)
        } catch let error as LedgerError {
            return .rejected(error)
        } catch {
            return .rejected(LedgerError(.storageFull, "the log could not be read: \(error)", id: fact.id))
        }
    }

    /// The seq of the stored fact with this fact's id and content, nil if the id is new.
    /// - Throws: `id_conflict` when the id is stored with other content.
    private func existing(_ fact: Fact) throws -> UInt64? {
        if let staged = stagedFacts[fact.id] ?? inFlightFact(id: fact.id) {
            guard staged.client == fact.clientFields else { throw Self.conflict(fact) }
            return staged.seq
        }
        // Looked up ahead (stored or not), else in the log now.
        let found: UInt64?
        if let position = prefetched.position(of: fact.id) {
            found = prefetched[at: position]
        } else {
            found = try log.seq(forID: fact.id)
        }
        guard let seq = found else { return nil }
        guard let record = try log.record(at: seq) else { return nil }
        let stored = try StoredEvent(parsing: record.body)
        guard stored.clientFields == fact.clientFields else { throw Self.conflict(fact) }
        return seq
    }

    /// The fact with this id in a batch under way in the background, if any.
    private func inFlightFact(id: String) -> StagedFact? {
        for batch in inFlight {
            if let fact = batch.facts[id] { return fact }
        }
        return nil
    }

    private static func conflict(_ fact: Fact) -> LedgerError {
        LedgerError(.idConflict, "id \(fact.id) is already stored with other content", field: "id", id: fact.id)
    }

    /// A committed event: the body the log stores for it (canonical JSON without `prev` and
    /// `hash`) and its place in the chain.
    public struct Committed: Sendable {
        public var body: [UInt8]
        public var link: EventLog.Link
    }

    /// Appends everything staged in one durable transaction, after the batch under way in the
    /// background, if any.
    ///
    /// - Returns: the bodies and chain links of the events this call wrote, in seq order (not
    ///   those of a batch written in the background).
    /// - Throws: `StoreError` (``StoreError/Code/storageFull`` among others); then nothing of the
    ///   failed batch or after it was stored, and the ledger is rebuilt from the log, so those
    ///   facts are gone.
    public func commit() throws -> [Committed] {
        try waitForCommit()
        guard !staged.isEmpty else { return [] }
        let (events, facts) = takeStaged()
        do {
            let committed = try Self.write(events, to: log)
            remember(facts)
            Self.release(consume facts)
            return committed
        } catch {
            try restore()
            throw error
        }
    }

    /// Starts writing everything staged on another thread, after the batches already under
    /// way, and returns; facts submitted meanwhile see the batch as staged. When
    /// ``maxBatchesInFlight`` batches are under way, waits for the oldest first. The next
    /// ``commit()`` or ``waitForCommit()`` waits for all of them.
    ///
    /// What was written is not handed back (`import` needs none of it): the canonical bodies
    /// are released on the writing thread, rather than freed one by one on the judging thread
    /// (a free of another thread's memory takes that thread's allocator lock).
    ///
    /// - Throws: the error of a batch that was under way (see ``waitForCommit()``).
    public func commitInBackground() throws {
        while inFlight.count >= maxBatchesInFlight { try waitForOldest() }
        guard !staged.isEmpty else { return }
        let (events, facts) = takeStaged()
        let log = self.log
        // The bodies are written now, while the batch before may still be compressed, hashed
        // or synced: on a thread of their own, since every core is busy already. Should the
        // batch before fail, the log refuses this one (its seqs do not follow the head).
        let entries = Ahead { events.map(Self.entry) }
        let result = Ahead(after: commitQueue) {
            Result { () throws -> Void in _ = try log.append(entries.wait()) }
        }
        inFlight.append((facts, result))
    }

    /// Waits for the batches under way in the background, if any.
    ///
    /// - Throws: the `StoreError` of the first that failed; then nothing of it or of the
    ///   batches after it was stored, the facts staged since are dropped too (they were judged
    ///   on top of it), and the ledger is rebuilt from the log.
    public func waitForCommit() throws {
        while !inFlight.isEmpty { try waitForOldest() }
    }

    /// Waits for the oldest batch under way (see ``waitForCommit()``).
    private func waitForOldest() throws {
        let (facts, result) = inFlight.removeFirst()
        switch result.wait() {
        case .success:
            remember(facts)
            Self.release(consume facts)
        case .failure(let error):
            // The batches after it are refused by the log; wait until they have been.
            for later in inFlight { _ = later.result.wait() }
            inFlight.removeAll()
            staged.removeAll(keepingCapacity: true)
            stagedFacts = KeyedTable()
            try restore()
            throw error
        }
    }

    /// Hands over the staged events and facts, leaving none staged.
    private func takeStaged() -> ([StoredEvent], KeyedTable<StagedFact>) {
        defer {
            staged = []
            stagedFacts = KeyedTable()
        }
        return (staged, stagedFacts)
    }

    /// Notes committed facts as stored, so the prefetched answers stay true.
    private func remember(_ facts: KeyedTable<StagedFact>) {
        guard prefetched.count > 0 else { return }
        // By position: iterating the table would copy each fact's client fields.
        for index in 0..<facts.count {
            if let position = prefetched.position(of: facts.keys[index]) {
                prefetched[at: position] = facts[at: index].seq
            }
        }
    }

    /// Releases a committed batch's facts on a thread of their own, off the judging thread.
    ///
    /// Their client fields were allocated where the facts were decoded (other threads), and
    /// freeing another thread's memory takes that thread's allocator lock: releasing them
    /// here took ~8% of `import`'s judging thread.
    private static func release(_ facts: consuming KeyedTable<StagedFact>) {
        // Moved into the closure: no reference is left here to be the last one released.
        releaseQueue.async { [facts = consume facts] in _ = facts }
    }

    /// Where committed facts are released (``release(_:)``), one batch after the other.
    private static let releaseQueue = DispatchQueue(label: "refledger.release", qos: .utility)

    /// Rebuilds the ledger from the log, after a failed commit.
    private func restore() throws {
        (ledger, restoreReport) = try LedgerReplay.restore(log)
    }

    /// The log entry of `event`: its canonical body, without `prev` and `hash`.
    private static func entry(_ event: StoredEvent) -> EventLog.Entry {
        EventLog.Entry(id: event.id, seq: event.seq, body: event.canonicalBody())
    }

    /// The log entries of `events`, their canonical bodies written on every core.
    private static func entries(_ events: [StoredEvent]) -> [EventLog.Entry] {
        Parallel.map(events.count) { index in entry(events[index]) }
    }

    /// Writes `events` in one durable transaction: canonical JSON on every core, then the log.
    private static func write(_ events: [StoredEvent], to log: EventLog) throws -> [Committed] {
        let entries = entries(events)
        return zip(entries, try log.append(entries)).map { Committed(body: $0.body, link: $1) }
    }
}

extension Timestamp {
    /// The system clock, in milliseconds.
    @Sendable public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}
