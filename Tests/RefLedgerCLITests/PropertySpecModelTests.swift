import Foundation
import RefLedgerCore
import RefLedgerStore
import RefLedgerTestSupport
import Testing

/// The ledger, fed generated traffic, answers every fact exactly as `SpecModel` — a second
/// reading of the contract — expects, and ends with the same balances and leaderboards.
@Suite struct PropertySpecModelTests {
    @Test(arguments: propertySeeds)
    func theLedgerAnswersEveryFactAsTheSpecReads(seed: UInt64) throws {
        let (lines, _) = generatedLines(seed: seed, count: 6000, invalidRate: 0.05)
        let directory = try TemporaryDirectory("spec")
        defer { directory.remove() }
        var model = SpecModel(recordedAt: propertyClock)
        var differences: [String] = []
        var live: Ledger?
        // Models as of positions inside a fact's derivation (the fact, then its first derived
        // event), for the `as_of` answers replayed from the log.
        var checkpoints: [(asOf: UInt64, model: SpecModel)] = []
        try ingest(lines, into: directory.appending("data")) { result, writer in
            let expected: SpecModel.Expectation
            do {
                expected = model.apply(try FactDecoder.decode(Array(result.line.text.utf8), now: propertyClock))
            } catch let error as LedgerError {
                expected = .rejected(error.code)
            } catch {
                expected = .rejected(.storageFull)
            }
            let actual: SpecModel.Expectation
            switch result.outcome {
            case .created(let events): actual = .created(events.map(\.fields))
            case .duplicate: actual = .duplicate
            case .rejected(let error): actual = .rejected(error.code)
            }
            if actual != expected, differences.count < 10 {
                differences.append(
                    "line \(result.index + 1): \(result.line.text.prefix(400))\n  SPEC: \(describe(expected))\n  ledger: \(describe(actual))"
                )
            }
            if case .created(let events) = actual, events.count >= 3,
                result.index * 4 / lines.count > checkpoints.count / 2
            {
                let seq = UInt64(events[0]["seq"]!.integerValue!)
                checkpoints += [(seq, model), (seq + 1, model)]
            }
            if result.index == lines.count - 1 { live = writer.ledger }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        let ledger = try #require(live)
        #expect(ledger.programNames == model.programs.keys.sorted())
        try expectSameAnswers(ledger, model, asOf: .max)
        #expect(checkpoints.count == 6)
        let log = try EventLog.open(directory: directory.appending("data"), readOnly: true)
        defer { log.close() }
        for (asOf, snapshot) in checkpoints {
            let cut = try LedgerReplay.replay(log, through: asOf)
            #expect(cut.head == asOf)
            try expectSameAnswers(cut, snapshot, asOf: asOf)
        }
    }

    /// Balances, metrics and leaderboards of every program: the ledger's against the model's.
    private func expectSameAnswers(_ ledger: Ledger, _ model: SpecModel, asOf: UInt64) throws {
        for (name, program) in model.programs.sorted(by: { $0.key < $1.key }) {
            for at in [
                Timestamp(rfc3339: "2026-03-01T00:00:00Z")!, Timestamp(rfc3339: "2026-05-15T00:00:00Z")!, propertyClock,
            ] {
                let balances = ledger.balances(program: name, at: at)
                #expect(balances.count == program.members.count)
                var wrong = 0
                for id in program.members.keys where balances[id] != program.balance(id, at: at, asOf: asOf) {
                    if wrong < 3 {
                        Issue.record(
                            "\(name)/\(id) at \(at) as of \(asOf): SPEC \(program.balance(id, at: at, asOf: asOf)), ledger \(balances[id].map { "\($0)" } ?? "none")"
                        )
                    }
                    wrong += 1
                }
            }
            let windows: [(String?, String?)] = [
                (nil, nil), ("2026-01-20T00:00:00Z", "2026-02-20T00:00:00Z"), ("2026-02-01T00:00:00+02:00", nil),
                (nil, "2026-03-10T12:00:00Z"), ("2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"),
            ]
            for (from, to) in windows {
                let start = from.flatMap(Timestamp.init(rfc3339:))
                let end = to.flatMap(Timestamp.init(rfc3339:))
                let actual = try ledger.metrics(program: name, from: start, to: end)
                for (key, value) in program.metrics(from: start, to: end, asOf: asOf)
                where MetricValue(actual[key]) != value {
                    Issue.record(
                        "\(name) metrics \(from ?? "-")…\(to ?? "-") as of \(asOf) \(key): SPEC \(value), ledger \(actual[key].map { "\($0)" } ?? "absent")"
                    )
                }
            }
            for order in LeaderboardOrder.allCases {
                let actual = try ledger.leaderboard(program: name, by: order, limit: 1000)
                #expect(
                    canonical(actual) == canonical(program.leaderboard(by: order, limit: 1000, asOf: asOf)),
                    "\(name) by \(order) as of \(asOf)"
                )
            }
        }
    }

    private func describe(_ expectation: SpecModel.Expectation) -> String {
        switch expectation {
        case .duplicate: "duplicate"
        case .rejected(let code): "rejected \(code.rawValue)"
        case .created(let events):
            events.map { String(decoding: CanonicalJSON.encode($0), as: UTF8.self) }.joined(separator: "\n    ")
        }
    }
}
