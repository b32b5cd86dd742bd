import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// The writer's two ways to commit: in the caller's thread (`commit`), and on other threads
/// while later facts are judged (`commitInBackground`, what `import` does).
@Suite struct LedgerWriterTests {
    private static let clock = Timestamp(rfc3339: "2026-10-01T00:00:00Z")!

    /// Generated lines with many re-posts, so that some repeat a fact still being committed.
    private static func lines(seed: UInt64, count: Int) -> [String] {
        var config = TrafficGenerator.Config(seed: seed, factCount: count, invalidRate: 0.05)
        config.duplicateRate = 0.08
        var generator = TrafficGenerator(config)
        var lines: [String] = []
        while let line = generator.next() { lines.append(line.text) }
        return lines
    }

    /// Runs `body` with a writer over a new log in a temporary directory.
    private static func withWriter(
        _ name: String,
        options: EventLog.Options = EventLog.Options(),
        _ body: (EventLog, LedgerWriter) throws -> Void
    ) throws {
        let directory = try TemporaryDirectory(name)
        defer { directory.remove() }
        let log = try EventLog.open(directory: directory.path, readOnly: false, options: options)
        defer { log.close() }
        try body(log, try LedgerWriter(log: log, clock: { clock }))
    }

    /// What each line became (the error code of a rejection, the seq of a duplicate, the
    /// events of a creation) and the head of the log afterwards.
    private static func ingest(
        _ lines: [String],
        into directory: String,
        commitEvery: Int,
        inBackground: Bool
    ) throws -> (outcomes: [String], head: EventLog.Head) {
        let log = try EventLog.open(directory: directory, readOnly: false)
        defer { log.close() }
        let writer = try LedgerWriter(log: log, clock: { clock })
        var outcomes: [String] = []
        for line in lines {
            outcomes.append(writer.submit(line: line).summary)
            if writer.stagedCount >= commitEvery {
                if inBackground { try writer.commitInBackground() } else { _ = try writer.commit() }
            }
        }
        _ = try writer.commit()
        #expect(!writer.isCommitting)
        return (outcomes, try log.head())
    }

    @Test(arguments: [UInt64(5), 77])
    func committingInTheBackgroundStoresWhatCommittingInPlaceStores(seed: UInt64) throws {
        let lines = Self.lines(seed: seed, count: 3_000)
        let directory = try TemporaryDirectory("writer")
        defer { directory.remove() }
        let inPlace = try Self.ingest(
            lines,
            into: directory.appending("in-place"),
            commitEvery: 150,
            inBackground: false
        )
        let background = try Self.ingest(
            lines,
            into: directory.appending("background"),
            commitEvery: 150,
            inBackground: true
        )
        #expect(inPlace.outcomes == background.outcomes)
        #expect(inPlace.head == background.head)
        // Re-posts of facts still being committed were found as duplicates, not stored twice.
        #expect(background.outcomes.filter { $0.hasPrefix("duplicate") }.count > 50)
        let log = try EventLog.open(directory: directory.appending("background"), readOnly: true)
        defer { log.close() }
        #expect(try log.verifyChain().isValid)
    }

    /// A batch that does not fit fails; the batches queued behind it (judged on top of it) and
    /// the facts staged since are dropped with it, and the writer goes on from the log.
    /// A batch waited for twice would hang: the time limit makes that a failure.
    @Test(.timeLimit(.minutes(1)), arguments: [0, 1])
    func aFailedBackgroundCommitDropsWhatWasJudgedAfterIt(batchesQueuedBehind: Int) throws {
        // A map that cannot grow: the first large batch does not fit.
        let options = EventLog.Options(initialMapSizeBytes: 1 << 20, maxMapSizeBytes: 1 << 20, useDictionary: false)
        try Self.withWriter("writer-full", options: options) { log, writer in
            #expect(writer.maxBatchesInFlight > batchesQueuedBehind)
            let lines = Self.lines(seed: 9, count: 8_000)
            var next = 0
            func submit(_ count: Int) {
                for line in lines[next..<next + count] { _ = writer.submit(line: line) }
                next += count
            }
            submit(100)
            _ = try writer.commit()
            let committed = try log.head()
            #expect(committed.seq > 0)

            submit(6_900)  // far more than 1 MiB of records
            try writer.commitInBackground()
            for _ in 0..<batchesQueuedBehind {
                submit(50)  // would fit, but was judged on top of the batch under way
                try writer.commitInBackground()
            }
            #expect(writer.isCommitting)
            submit(100)  // staged on top of them
            #expect(writer.stagedCount > 0)
            #expect(throws: StoreError.self) { try writer.waitForCommit() }
            #expect(writer.stagedCount == 0)
            #expect(!writer.isCommitting)
            #expect(try log.head() == committed)
            #expect(writer.ledger.head == committed.seq)
            // The writer goes on from the committed state.
            submit(10)
            _ = try writer.commit()
            #expect(try log.head().seq > committed.seq)
            #expect(try log.verifyChain().isValid)
        }
    }

    /// A re-post is judged against every batch under way, the older one included: the same
    /// fact is a duplicate at its seq, other content an `id_conflict`, and nothing is stored
    /// twice. The batches stay under way (in the writer's list) until waited for, however fast
    /// they are written, so this does not depend on timing.
    @Test func aRepostIsFoundInEitherBatchUnderWay() throws {
        try Self.withWriter("writer-repost") { log, writer in
            #expect(writer.maxBatchesInFlight >= 2)
            let time = "2026-09-30T12:00:00Z"
            func signup(_ id: String, _ participant: String) -> String {
                #"{"id":"\#(id)","type":"signup","program":"p","time":"\#(time)","participant":"\#(participant)"}"#
            }
            let program =
                #"{"id":"p","type":"program","program":"p","time":"\#(time)","#
                + #""rules":{"currency":"USD","referrer_reward":{"fixed":100}}}"#
            let older = [program, signup("a1", "alice"), signup("a2", "ann")]
            let newer = [signup("b1", "bob"), signup("b2", "bea")]
            for batch in [older, newer] {
                for line in batch { #expect(writer.submit(line: line).summary.hasPrefix("created"), "\(line)") }
                try writer.commitInBackground()
            }
            #expect(writer.isCommitting)
            #expect(writer.stagedCount == 0)

            // Seqs 1–3 in the older batch, 4–5 in the newer.
            for (line, seq) in [(older[1], 2), (older[2], 3), (newer[0], 4), (newer[1], 5)] {
                #expect(writer.submit(line: line).summary == "duplicate \(seq)", "\(line)")
            }
            for line in [signup("a1", "someone-else"), signup("b2", "someone-else")] {
                #expect(writer.submit(line: line).summary == "rejected idConflict", "\(line)")
            }
            // The same participant under a new id is judged by the ledger, which holds both batches.
            #expect(writer.submit(line: signup("a3", "alice")).summary == "rejected participantExists")
            #expect(writer.stagedCount == 0)
            _ = try writer.commit()
            #expect(!writer.isCommitting)
            #expect(try log.head().seq == 5)
            #expect(try log.verifyChain().isValid)
            // Once written, the same re-posts are found in the log.
            #expect(writer.submit(line: older[1]).summary == "duplicate 2")
        }
    }

    /// A snapshot may be encoded while its facts are still staged (import encodes its final
    /// snapshot while the last batches are written), but stored only once the log holds them.
    @Test func aSnapshotPreparedBeforeItsCommitIsStoredAfterIt() throws {
        try Self.withWriter("writer-snapshot") { log, writer in
            let lines = Self.lines(seed: 13, count: 2_100)
            for line in lines[..<2_000] { _ = writer.submit(line: line) }
            try writer.commitInBackground()
            let prepared = try log.prepareSnapshot(of: writer.ledger)
            #expect(prepared.seq == writer.ledger.head)
            #expect(prepared.seq > 0)
            // Facts staged after the batch under way: a snapshot including them is ahead of the log.
            for line in lines[2_000...] { _ = writer.submit(line: line) }
            let ahead = try log.prepareSnapshot(of: writer.ledger)
            #expect(ahead.seq > prepared.seq)
            let early = #expect(throws: StoreError.self) { try log.storeSnapshot(ahead) }
            #expect(early?.code == .invalidArgument)
            _ = try writer.commit()
            let stored = try log.storeSnapshot(prepared)
            #expect(stored.seq == prepared.seq)
            let (restored, report) = try LedgerReplay.restore(log)
            #expect(report.snapshotSeq == prepared.seq)
            #expect(restored.snapshotBytes() == (try LedgerReplay.replay(log)).snapshotBytes())
        }
    }

    /// A new snapshot keeps the one before it, and the oldest too while the one before is less
    /// than the spacing above it: close snapshots do not push out the one further back, which
    /// moves up once the one before the newest is that far above it.
    @Test func snapshotsKeepTheOneBeforeAndTheOldestWithinTheSpacing() throws {
        try Self.withWriter("writer-retention") { log, writer in
            let lines = Self.lines(seed: 17, count: 700)
            // Commits 100 more lines; returns the new head.
            var judged = 0
            func advance() throws -> UInt64 {
                for line in lines[judged..<(judged + 100)] { _ = writer.submit(line: line) }
                judged += 100
                _ = try writer.commit()
                return writer.ledger.head
            }
            func snapshot(spacing: UInt64 = 0) throws -> [UInt64] {
                _ = try log.writeSnapshot(of: writer.ledger, keepingOlderAtLeast: spacing)
                return try log.snapshotSeqs()
            }
            let h1 = try advance()
            #expect(try snapshot() == [h1])
            let h2 = try advance()
            #expect(try snapshot() == [h1, h2])
            let h3 = try advance()
            #expect(try snapshot() == [h2, h3], "the newest two")
            // The one before is less than the spacing above the oldest: the oldest stays.
            let h4 = try advance()
            #expect(try snapshot(spacing: h3 - h2 + 1) == [h2, h3, h4])
            let h5 = try advance()
            #expect(try snapshot(spacing: h4 - h2 + 1) == [h2, h4, h5], "the one between goes")
            // The one before is the spacing above the oldest: it takes the oldest's place.
            let h6 = try advance()
            #expect(try snapshot(spacing: h5 - h2) == [h5, h6])
            let h7 = try advance()
            #expect(try snapshot(spacing: h7) == [h5, h6, h7])
            #expect(h1 < h2 && h2 < h3 && h3 < h4 && h4 < h5 && h5 < h6 && h6 < h7)
        }
    }
}

extension LedgerWriter {
    /// Judges one NDJSON line.
    fileprivate func submit(line: String) -> Outcome {
        Array(line.utf8).withUnsafeBytes { submit($0) }
    }
}

extension LedgerWriter.Outcome {
    /// What a line became, comparable: the seqs of a creation, the seq of a duplicate, the
    /// error code of a rejection.
    fileprivate var summary: String {
        switch self {
        case .created(let events): "created \(events.map(\.seq))"
        case .duplicate(let seq): "duplicate \(seq)"
        case .rejected(let error): "rejected \(error.code)"
        }
    }
}
