import RefLedgerCore
import Testing

private typealias H = LedgerHarness

@Suite struct LedgerAsOfTests {
    /// Applies the stream up to `seq` the way an as-of query does, cutting inside a derivation.
    private func ledger(asOf seq: UInt64, lines: [String]) -> Ledger {
        var h = LedgerHarness()
        for line in lines {
            guard case .success(let events) = h.post(line) else { continue }
            if events.last!.seq > seq {
                if events[0].seq <= seq { h.ledger.cut(after: seq, derived: Array(events.dropFirst())) }
                break
            }
        }
        return h.ledger
    }

    private let lines = [
        H.program(#"{"currency":"USD","referrer_reward":{"percent_bps":1000},"referee_reward":{"fixed":50}}"#),  // 1
        H.signup("r", extra: #","code":"RRR""#),  // 2
        H.signup("a", extra: #","referrer_code":"RRR""#),  // 3
        H.convert("a", order: "o1", amount: 1000),  // 4, rewards 5 (r 100) and 6 (a 50)
        H.refund("o1", amount: 1000),  // 7, reversals 8 (r 100) and 9 (a 50)
    ]

    @Test func asOfTheFactExcludesWhatItDerived() throws {
        let at = Timestamp(rfc3339: "2030-01-01T00:00:00Z")!
        let four = ledger(asOf: 4, lines: lines)
        #expect(four.head == 4)
        #expect(four.isCut, "it lacks the rewards of seq 4")
        #expect(!ledger(asOf: 6, lines: lines).isCut, "seq 6 ends the conversion's derivation")
        #expect(try four.balance(program: "p", participant: "r", at: at).earned == 0)
        let metrics = try four.metrics(program: "p", from: nil, to: nil)
        #expect(metrics["referred_revenue"] == .integer(1000))
        #expect(metrics["reward_cost"] == .integer(0))
        let five = ledger(asOf: 5, lines: lines)
        #expect(try five.balance(program: "p", participant: "r", at: at).earned == 100)
        #expect(try five.balance(program: "p", participant: "a", at: at).earned == 0)
        #expect(try five.metrics(program: "p", from: nil, to: nil)["reward_cost"] == .integer(100))
        let eight = ledger(asOf: 8, lines: lines)
        #expect(try eight.balance(program: "p", participant: "r", at: at).earned == 0)
        #expect(try eight.balance(program: "p", participant: "a", at: at).earned == 50)
        #expect(try eight.metrics(program: "p", from: nil, to: nil)["reward_cost"] == .integer(50))
        let board = try eight.leaderboard(program: "p", by: .rewards, limit: 10)
        #expect(
            board["rows"]
                == .array([
                    .object(
                        JSONObject([
                            ("participant", .string("a")),
                            (
                                "code",
                                .string(
                                    try eight.participantView(program: "p", participant: "a", at: at)["code"]!
                                        .stringValue!
                                )
                            ),
                            ("referees", .integer(0)), ("rewards", .integer(50)),
                        ])
                    )
                ])
        )
    }

    /// A cut ledger lacks events of its last fact: applying another fact to it stops the
    /// process rather than derive from a state no log holds.
    @Test func aCutLedgerAppliesNoFurtherFact() async {
        await #expect(processExitsWith: .failure) {
            var h = LedgerHarness()
            for line in [H.program(#"{"currency":"USD","referrer_reward":{"fixed":100}}"#), H.signup("r")] {
                _ = h.post(line)
            }
            h.ledger.cut(after: 2, derived: [])
            _ = h.post(H.signup("s"))
        }
    }
}
