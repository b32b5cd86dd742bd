import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// A replay reads the log in chunks of 4,096 records, each read and decoded on other threads
/// while the chunk before it is applied: damage still stops it where reading the chunks one
/// after the other would, the first damage first.
@Suite struct LedgerReplayTests {
    private static let clock = Timestamp(rfc3339: "2026-10-01T00:00:00Z")!

    /// A data directory holding the facts of generated traffic (over three chunks of the log);
    /// returns its head seq.
    private static func makeLog(in directory: String) throws -> UInt64 {
        let log = try EventLog.open(directory: directory, readOnly: false)
        defer { log.close() }
        let writer = try LedgerWriter(log: log, clock: { clock })
        var generator = TrafficGenerator(TrafficGenerator.Config(seed: 5, factCount: 15_000, invalidRate: 0))
        while let line = generator.next() {
            _ = Array(line.text.utf8).withUnsafeBytes { writer.submit($0) }
            if writer.stagedCount >= 1000 { _ = try writer.commit() }
        }
        _ = try writer.commit()
        return try log.head().seq
    }

    /// The seq of the first stored fact (not a derived event) at or after `seq`.
    private static func factSeq(atOrAfter seq: UInt64, in log: EventLog) throws -> UInt64 {
        var candidate = seq
        while let record = try log.record(at: candidate) {
            if !LedgerReplay.isDerived(try StoredEvent(parsing: record.body)) { return candidate }
            candidate += 1
        }
        throw StoreError(.invalidArgument, "no fact at or after seq \(seq)")
    }

    /// Finds the first stored fact at or after `seq` and the fact after it, and stores the
    /// second's record in the first's place (LMDB written directly); returns their seqs.
    private static func copyNextFact(
        atOrAfter seq: UInt64,
        in directory: String
    ) throws -> (moved: UInt64, next: UInt64) {
        let (moved, next): (UInt64, UInt64)
        do {
            let log = try EventLog.open(directory: directory, readOnly: true)
            defer { log.close() }
            moved = try factSeq(atOrAfter: seq, in: log)
            next = try factSeq(atOrAfter: moved + 1, in: log)
        }
        var value: [UInt8]?
        try tamperStoredValue(directory: directory, database: "log", key: seqKey(next)) { value = $0 }
        try tamperStoredValue(directory: directory, database: "log", key: seqKey(moved)) { $0 = value }
        return (moved, next)
    }

    /// Replays the log in `directory`: through `seq - 1` it succeeds; a whole replay throws
    /// an error that `isExpected`.
    private static func expectReplayStops(
        in directory: String,
        at seq: UInt64,
        _ isExpected: (any Error) -> Bool
    ) throws {
        let log = try EventLog.open(directory: directory, readOnly: true)
        defer { log.close() }
        #expect(try LedgerReplay.replay(log, through: seq - 1).head == seq - 1)
        do {
            _ = try LedgerReplay.replay(log)
            Issue.record("the replay went past seq \(seq)")
        } catch {
            #expect(isExpected(error), "\(error)")
        }
    }

    @Test func aRecordMissingFromALaterChunkStopsTheReplayThere() throws {
        let directory = try TemporaryDirectory("replay-missing")
        defer { directory.remove() }
        let head = try Self.makeLog(in: directory.path)
        let missing: UInt64 = 2 * 4096 + 100
        #expect(head > missing + 4096, "the damage is in the third chunk, with more after it")
        try tamperStoredValue(directory: directory.path, database: "log", key: seqKey(missing)) { $0 = nil }
        try Self.expectReplayStops(in: directory.path, at: missing) { error in
            (error as? StoreError)?.code == .corrupted && "\(error)".contains("no record at seq \(missing)")
        }
    }

    /// A stored fact whose record holds the next fact's content is refused when the replay
    /// reaches it (the ledger expects another seq), while the chunk after it is being read.
    @Test func aFactOutOfPlaceStopsTheReplayAtIt() throws {
        let directory = try TemporaryDirectory("replay-out-of-place")
        defer { directory.remove() }
        let head = try Self.makeLog(in: directory.path)
        let (moved, next) = try Self.copyNextFact(atOrAfter: 4096 + 500, in: directory.path)
        #expect(head > next + 2 * 4096, "chunks after the damaged one")
        try Self.expectReplayStops(in: directory.path, at: moved) { error in
            (error as? LedgerError)?.message.contains("is at seq \(next); the ledger expects \(moved)") == true
        }
    }

    /// A fact out of place in the second chunk is reported, not the record missing from the
    /// third, which is read (ahead) before the second chunk is applied.
    @Test func theFirstDamageIsReportedThoughALaterChunkWasReadFirst() throws {
        let directory = try TemporaryDirectory("replay-two-faults")
        defer { directory.remove() }
        let head = try Self.makeLog(in: directory.path)
        let (moved, next) = try Self.copyNextFact(atOrAfter: 4096 + 500, in: directory.path)
        let missing: UInt64 = 2 * 4096 + 100
        #expect(next < 2 * 4096 && head > missing, "the fact in the second chunk, the gap in the third")
        try tamperStoredValue(directory: directory.path, database: "log", key: seqKey(missing)) { $0 = nil }
        try Self.expectReplayStops(in: directory.path, at: moved) { error in
            (error as? LedgerError)?.message.contains("is at seq \(next); the ledger expects \(moved)") == true
        }
    }
}
