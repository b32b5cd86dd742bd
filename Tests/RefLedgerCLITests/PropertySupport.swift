import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// The seeds the property tests run; each gives a different stream.
let propertySeeds: [UInt64] = [1, 20_261_123, 0xDEAD_BEEF]

/// The daemon clock of in-process runs: after every generated business time (2026-01-01 plus
/// about 120 days), before the deliberate future times (2030 and later).
let propertyClock = Timestamp(rfc3339: "2026-10-01T00:00:00Z")!

/// Generated lines with what each was meant to be.
func generatedLines(
    seed: UInt64,
    count: Int,
    invalidRate: Double = 0.02
) -> (lines: [TrafficGenerator.Line], generator: TrafficGenerator) {
    var generator = TrafficGenerator(TrafficGenerator.Config(seed: seed, factCount: count, invalidRate: invalidRate))
    var lines: [TrafficGenerator.Line] = []
    while let line = generator.next() { lines.append(line) }
    return (lines, generator)
}

/// What happened to one line when it was submitted.
struct PropertyOutcome {
    var index: Int
    var line: TrafficGenerator.Line
    var outcome: LedgerWriter.Outcome

    var rejection: ErrorCode? {
        if case .rejected(let error) = outcome { return error.code }
        return nil
    }
}

/// Submits `lines` in order through a `LedgerWriter` on a fresh log in `directory` (the
/// daemon's path: decode, idempotency, ledger), committing every 500 events in the background
/// as the daemon and `import` do (the next lines are judged while a batch is written).
/// `inspect` runs after each line with its outcome and the writer (whose ledger includes the
/// line).
@discardableResult
func ingest(
    _ lines: [TrafficGenerator.Line],
    into directory: String,
    inspect: (PropertyOutcome, LedgerWriter) throws -> Void = { _, _ in }
) throws -> [PropertyOutcome] {
    let log = try EventLog.open(directory: directory, readOnly: false)
    defer { log.close() }
    let writer = try LedgerWriter(log: log, clock: { propertyClock })
    var outcomes: [PropertyOutcome] = []
    outcomes.reserveCapacity(lines.count)
    for (index, line) in lines.enumerated() {
        let outcome = Array(line.text.utf8).withUnsafeBytes { writer.submit($0) }
        let result = PropertyOutcome(index: index, line: line, outcome: outcome)
        try inspect(result, writer)
        outcomes.append(result)
        if writer.stagedCount >= 500 { try writer.commitInBackground() }
    }
    _ = try writer.commit()
    return outcomes
}

/// Every stored event of the log in `directory`, in seq order, with its full JSON.
func storedEvents(in directory: String) throws -> [(event: StoredEvent, full: [UInt8])] {
    let log = try EventLog.open(directory: directory, readOnly: true)
    defer { log.close() }
    var events: [(StoredEvent, [UInt8])] = []
    try log.scan(from: 1, through: try log.head().seq) { record in
        events.append((try StoredEvent(parsing: record.body), try record.fullJSON()))
    }
    return events
}

/// Writes generated lines as an NDJSON file.
func writeNDJSON(_ lines: [TrafficGenerator.Line], to path: String) throws {
    var data = Data()
    for line in lines {
        data.append(contentsOf: line.text.utf8)
        data.append(0x0A)
    }
    try data.write(to: URL(fileURLWithPath: path))
}

/// Reads every line of a plain or zstd NDJSON file.
func readLines(_ path: String) throws -> [[UInt8]] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw CocoaError(.fileNoSuchFile) }
    defer { close(descriptor) }
    let reader = try LineReader(fileDescriptor: descriptor, maxLineBytes: 1 << 20)
    var lines: [[UInt8]] = []
    while let line = try reader.nextLine() {
        if case .complete(let bytes) = line, !bytes.isEmpty { lines.append(bytes) }
    }
    return lines
}

/// The canonical bytes of a query body, for comparing answers.
func canonical(_ object: JSONObject) -> [UInt8] { CanonicalJSON.encode(object) }

/// The participants of each program, from the stored signups.
func participantsByProgram(_ events: [StoredEvent]) -> [(program: String, participants: [String])] {
    var result: [String: [String]] = [:]
    for event in events where event.type == "signup" {
        if let program = event.fields["program"]?.stringValue, let id = event.fields["participant"]?.stringValue {
            result[program, default: []].append(id)
        }
    }
    return result.keys.sorted().map { ($0, result[$0]!) }
}

/// The net reward money (rewards − reversals) of each program over `events`.
func netRewardsByProgram(_ events: some Sequence<StoredEvent>) -> [String: Int64] {
    var sums: [String: Int64] = [:]
    for event in events {
        guard let program = event.fields["program"]?.stringValue, let amount = event.fields["amount"]?.integerValue
        else { continue }
        if event.type == "reward" { sums[program, default: 0] += amount }
        if event.type == "reversal" { sums[program, default: 0] -= amount }
    }
    return sums
}

/// Both ledgers answer alike: metrics (whole and a cohort window), leaderboards and every
/// listed participant's view at two times.
func expectSameAnswers(
    _ a: Ledger,
    _ b: Ledger,
    participants: [(program: String, participants: [String])]
) throws {
    let start = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
    let day: Int64 = 86_400_000
    for (program, ids) in participants {
        for (from, to) in [
            (nil, nil), (start.adding(milliseconds: 20 * day), start.adding(milliseconds: 50 * day)),
        ] {
            #expect(
                canonical(try a.metrics(program: program, from: from, to: to))
                    == canonical(try b.metrics(program: program, from: from, to: to))
            )
        }
        for order in LeaderboardOrder.allCases {
            #expect(
                canonical(try a.leaderboard(program: program, by: order, limit: 1000))
                    == canonical(try b.leaderboard(program: program, by: order, limit: 1000))
            )
        }
        for id in ids {
            for at in [start.adding(milliseconds: 60 * day), propertyClock] {
                let left = try a.participantView(program: program, participant: id, at: at)
                let right = try b.participantView(program: program, participant: id, at: at)
                if canonical(left) != canonical(right) { Issue.record("\(program)/\(id) at \(at) differs") }
            }
        }
    }
}

/// Every program of `ledger` with all its participants, for ``expectSameAnswers(_:_:participants:)``.
func everyParticipant(of ledger: Ledger) -> [(program: String, participants: [String])] {
    ledger.programNames.map { ($0, ledger.participantIDs(program: $0)) }
}

/// Ingests `lines` like ``ingest(_:into:inspect:)`` and writes a snapshot of the committed
/// ledger after each line whose index is in `snapshotAfter`; returns the snapshots' seqs.
func ingestWithSnapshots(
    _ lines: [TrafficGenerator.Line],
    into directory: String,
    snapshotAfter: Set<Int>
) throws
    -> [UInt64]
{
    let log = try EventLog.open(directory: directory, readOnly: false)
    defer { log.close() }
    let writer = try LedgerWriter(log: log, clock: { propertyClock })
    var seqs: [UInt64] = []
    for (index, line) in lines.enumerated() {
        _ = Array(line.text.utf8).withUnsafeBytes { writer.submit($0) }
        if writer.stagedCount >= 500 || snapshotAfter.contains(index) { _ = try writer.commit() }
        if snapshotAfter.contains(index) { seqs.append(try log.writeSnapshot(of: writer.ledger).seq) }
    }
    _ = try writer.commit()
    return seqs
}
