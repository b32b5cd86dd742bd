import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// Properties of whole generated streams, through the public APIs and the real executable.
@Suite struct PropertyTests {
    /// SPEC §5: Σ rewards − Σ reversals = Σ (pending + available + reserved + paid), per
    /// program, after every fact, whenever holds are judged.
    @Test(arguments: propertySeeds)
    func accountingInvariantHoldsAfterEveryFact(seed: UInt64) throws {
        let (lines, _) = generatedLines(seed: seed, count: 3000)
        let directory = try TemporaryDirectory("prop")
        defer { directory.remove() }
        var net: [String: Int64] = [:]
        var checked = 0
        try ingest(lines, into: directory.appending("data")) { result, writer in
            guard case .created(let events) = result.outcome else { return }
            for (program, delta) in netRewardsByProgram(events.dropFirst()) { net[program, default: 0] += delta }
            let program = events[0].fields["program"]!.stringValue!
            let time = Timestamp(rfc3339: events[0].fields["time"]!.stringValue!)!
            for at in [time, time.adding(milliseconds: 20 * 86_400_000), Timestamp(millisecondsSinceEpoch: 0)] {
                var held: Money = 0
                for (participant, balance) in writer.ledger.balances(program: program, at: at) {
                    if balance.pending < 0 || balance.earned < 0 || balance.reserved < 0 || balance.paid < 0 {
                        Issue.record("line \(result.index + 1): \(participant) in \(program) has \(balance)")
                    }
                    held += balance.pending + balance.available + balance.reserved + balance.paid
                }
                if held != Money(net[program, default: 0]) {
                    Issue.record(
                        "line \(result.index + 1) (\(program), at \(at)): balances hold \(held), events say \(net[program, default: 0])"
                    )
                }
            }
            #expect(writer.ledger.netRewards(program: program) == net[program, default: 0])
            checked += 1
        }
        #expect(checked > 2500)
        #expect(net.values.contains { $0 > 0 }, "the stream derived rewards")
    }

    /// Replaying the stored facts into a fresh ledger re-derives every stored event, and the
    /// two ledgers answer every query alike.
    @Test(arguments: propertySeeds)
    func replayRederivesEveryEventAndAnswersAlike(seed: UInt64) throws {
        let (lines, _) = generatedLines(seed: seed, count: 6000)
        let directory = try TemporaryDirectory("prop")
        defer { directory.remove() }
        var live: Ledger?
        try ingest(lines, into: directory.appending("data")) { result, writer in
            if result.index == lines.count - 1 { live = writer.ledger }
        }
        let stored = try storedEvents(in: directory.appending("data")).map(\.event)
        var replay = LedgerReplay()
        var expected: [StoredEvent] = []
        for event in stored {
            if LedgerReplay.isDerived(event) {
                let rederived = try #require(expected.first, "seq \(event.seq) is not re-derived")
                expected.removeFirst()
                #expect(rederived.canonicalBody() == event.canonicalBody(), "seq \(event.seq)")
            } else {
                #expect(expected.isEmpty, "seq \(event.seq): derived events missing before it")
                let step = try replay.apply(stored: event)
                #expect(step.rederived[0].canonicalBody() == event.canonicalBody(), "seq \(event.seq)")
                expected = Array(step.rederived.dropFirst())
            }
        }
        #expect(expected.isEmpty)
        let ledger = try #require(live)
        #expect(replay.ledger.head == ledger.head)
        #expect(replay.ledger.programNames == ledger.programNames)
        try expectSameAnswers(replay.ledger, ledger, participants: participantsByProgram(stored))
    }

    /// `refledger import` of facts reports exactly the lines the writer refuses; its export
    /// imported into a new data dir gives the same log, record for record.
    @Test(arguments: propertySeeds)
    func exportImportsIntoAByteIdenticalLog(seed: UInt64) throws {
        let (lines, _) = generatedLines(seed: seed, count: 5000)
        let directory = try TemporaryDirectory("prop")
        defer { directory.remove() }
        let facts = directory.appending("facts.ndjson")
        try writeNDJSON(lines, to: facts)
        let first = directory.appending("a")
        let imported = try runCommand("refledger", ["import", facts, "--data", first])
        #expect(imported.status == 1, "some generated lines are invalid")

        let inProcess = try ingest(lines, into: directory.appending("writer"))
        let refused = Set(inProcess.filter { $0.rejection != nil }.map { $0.index + 1 })
        let reported = Set(
            imported.stderr.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("line ") else { return nil }
                return Int(line.dropFirst(5).prefix { $0.isNumber })
            }
        )
        #expect(reported == refused)
        let cliEvents = try storedEvents(in: first)
        let writerEvents = try storedEvents(in: directory.appending("writer"))
        #expect(cliEvents.count == writerEvents.count)
        for (cli, writer) in zip(cliEvents, writerEvents) {
            var left = cli.event.fields
            var right = writer.event.fields
            left["recorded_at"] = nil  // the CLI stamps the real clock
            right["recorded_at"] = nil
            if left != right { Issue.record("seq \(cli.event.seq): the CLI stored \(left), the writer \(right)") }
        }

        let export = directory.appending("a.ndjson.zst")
        #expect(try runCommand("refledger", ["export", "--data", first, "-o", export]).status == 0)
        let second = directory.appending("b")
        let reimported = try runCommand("refledger", ["import", export, "--data", second])
        #expect(reimported.status == 0, "\(reimported.stderr)")
        let digestA = try runCommand("refledger", ["digest", "--data", first])
        let digestB = try runCommand("refledger", ["digest", "--data", second])
        #expect(digestA.status == 0 && digestA.output == digestB.output)
        #expect(digestA.output.contains(#""seq":\#(cliEvents.count)"#))
        let copied = try storedEvents(in: second)
        #expect(copied.count == cliEvents.count)
        #expect(copied.map(\.full) == cliEvents.map(\.full))
        #expect(try readLines(export) == cliEvents.map(\.full))
        // Both imports end with a snapshot at the head, so a daemon started there replays nothing.
        for data in [first, second] {
            let log = try EventLog.open(directory: data, readOnly: true)
            defer { log.close() }
            #expect(try log.snapshotSeqs() == [UInt64(cliEvents.count)])
            #expect(try LedgerReplay.restore(log).report.replayedEvents == 0)
        }
    }
}
