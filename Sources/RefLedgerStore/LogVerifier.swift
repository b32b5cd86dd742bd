import RefLedgerCore

/// The offline audit of a data directory: the hash chain, a fresh ledger re-deriving every
/// event and signup decision, and the accounting invariant of SPEC §5 — all from seq 1,
/// trusting no snapshot. Each stored snapshot is then checked against the state the fresh
/// ledger reaches at its seq.
public struct LogVerifier {
    /// What the audit found.
    public struct Report: Sendable {
        /// The chain check.
        public var chain: EventLog.ChainReport
        /// Events re-derived and compared.
        public var compared: UInt64 = 0
        /// Every difference found, in seq order (at most ``maxProblems``).
        public var problems: [String] = []
        /// Snapshots found equal to the replayed state at their seq.
        public var snapshotsChecked = 0
        /// What is not wrong with the log but worth knowing: damaged snapshots, which start-up
        /// ignores.
        public var notes: [String] = []
        /// Whether everything holds.
        public var isValid: Bool { chain.isValid && problems.isEmpty }
    }

    /// The most differences a report lists.
    public var maxProblems = 100

    public init() {}

    /// Audits `log` up to its head.
    public func verify(_ log: EventLog, progress: (UInt64) -> Void = { _ in }) throws -> Report {
        var report = Report(chain: try log.verifyChain(progress: nil))
        guard report.chain.isValid else { return report }
        let head = report.chain.head.seq
        var replay = LedgerReplay()
        var expected: [StoredEvent] = []
        var netRewards: [String: Money] = [:]
        func problem(_ text: String) { if report.problems.count < maxProblems { report.problems.append(text) } }
        var snapshots = Set(try log.snapshotSeqs())
        func checkSnapshot() throws {
            let seq = replay.ledger.head
            guard snapshots.remove(seq) != nil else { return }
            do {
                guard let snapshot = try log.snapshot(at: seq) else { return }
                if snapshot.state == replay.ledger.snapshotBytes(fork: Ledger.onTwoThreads) {
                    report.snapshotsChecked += 1
                } else {
                    problem("snapshot at seq \(seq) differs from the state a fresh ledger reaches there")
                }
            } catch let error as StoreError where error.code == .corrupted {
                report.notes.append("\(error.message); start-up ignores it")
            }
        }
        // Records are read, parsed and their facts decoded ahead, on other threads
        // (``LedgerReplay/readAhead(_:from:through:prepare:_:)``); applying and comparing stay here.
        try LedgerReplay.readAhead(log, from: 1, through: head, prepare: LedgerReplay.PreparedStored.init) { chunk in
            for prepared in chunk {
                let record = prepared.record
                let stored = try prepared.parsed.get()
                report.compared += 1
                if report.compared % 65_536 == 0 { progress(head / 2 + report.compared / 2) }
                Self.account(stored, into: &netRewards)
                let rederived: StoredEvent?
                if let decoded = prepared.decoded {
                    if let missing = expected.first {
                        problem("seq \(missing.seq): the log lacks derived event \(missing.id) (re-derived)")
                        expected.removeAll()
                    }
                    do {
                        let step = try replay.apply(stored, decoded: decoded)
                        rederived = step.rederived[0]
                        expected = Array(step.rederived.dropFirst())
                        try checkSnapshot()
                    } catch {
                        problem("seq \(record.seq): fact \(stored.id) is refused on replay: \(error)")
                        continue
                    }
                } else {
                    rederived = expected.isEmpty ? nil : expected.removeFirst()
                }
                guard let rederived else {
                    problem("seq \(record.seq): derived event \(stored.id) is not derived by a fresh ledger")
                    continue
                }
                let body = rederived.canonicalBody()
                if body != record.body {
                    problem(
                        "seq \(record.seq): stored " + String(decoding: record.body, as: UTF8.self)
                            + " but a fresh ledger derives "
                            + String(decoding: body, as: UTF8.self)
                    )
                }
            }
        }
        if let missing = expected.first { problem("seq \(missing.seq): the log lacks derived event \(missing.id)") }
        for seq in snapshots.sorted() {
            if seq <= head {
                problem("snapshot at seq \(seq) is not at the end of a fact's derivation")
            } else {
                report.notes.append("snapshot at seq \(seq) is beyond the head; start-up ignores it")
            }
        }
        let ledger = replay.ledger
        let at = Timestamp(millisecondsSinceEpoch: Int64.max / 4)
        for program in ledger.programNames {
            let held = ledger.balances(program: program, at: at).values.reduce(Money(0)) {
                $0 + $1.pending + $1.available + $1.reserved + $1.paid
            }
            let logged = netRewards[program] ?? 0
            if held != logged {
                problem("program \(program): rewards − reversals = \(logged) but balances hold \(held)")
            }
        }
        return report
    }

    /// Adds a reward's amount or subtracts a reversal's, per program.
    private static func account(_ stored: StoredEvent, into sums: inout [String: Money]) {
        guard let program = stored.fields["program"]?.stringValue, let amount = stored.fields["amount"]?.integerValue
        else { return }
        switch stored.type {
        case "reward": sums[program, default: 0] += Money(amount)
        case "reversal": sums[program, default: 0] -= Money(amount)
        default: break
        }
    }
}
