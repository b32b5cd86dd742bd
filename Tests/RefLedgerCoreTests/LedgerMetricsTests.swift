import RefLedgerCore
import Testing

private typealias H = LedgerHarness

@Suite struct LedgerMetricsTests {
    @Test func ratiosRoundHalfAwayFromZeroToSixDecimals() {
        #expect(ExactDecimal.ratio(1, 128) == .number("0.007813"))  // 0.0078125
        #expect(ExactDecimal.ratio(-1, 128) == .number("-0.007813"))
        #expect(ExactDecimal.ratio(2, 3) == .number("0.666667"))
        #expect(ExactDecimal.ratio(1, 3) == .number("0.333333"))
        #expect(ExactDecimal.ratio(5, 2) == .number("2.5"))
        #expect(ExactDecimal.ratio(4, 2) == .number("2.0"))
        #expect(ExactDecimal.ratio(0, 7) == .number("0.0"))
        #expect(ExactDecimal.ratio(1, 0) == .null)
    }

    @Test func emptyProgramHasNullRatios() throws {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"fixed":100}}"#))
        let metrics = try h.ledger.metrics(program: "p", from: nil, to: nil)
        #expect(metrics["participants"] == .integer(0))
        for ratio in [
            "invites_per_participant", "invite_conversion", "k_factor", "click_to_signup", "signup_to_conversion",
            "roi", "avg_order_value", "revenue_per_converted_referee", "cost_per_converted_referee",
            "time_to_convert_p50", "time_to_convert_p90",
        ] {
            #expect(metrics[ratio] == .null, "\(ratio)")
        }
        #expect(throws: LedgerError.self) { try h.ledger.metrics(program: "nope", from: nil, to: nil) }
    }

    /// r and q refer; r's referees convert after 10, 20, 30, 40, 50 s; q's after 100 s.
    private func funnel() -> LedgerHarness {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"percent_bps":1000},"trigger":"every_conversion"}"#))
        h.accept(H.signup("r", extra: #","code":"RRR""#, time: "2026-01-01T00:00:00Z"))
        h.accept(H.signup("q", extra: #","code":"QQQ""#, time: "2026-02-01T00:00:00Z"))
        for index in 1...3 {
            h.accept(
                #"{"type":"invite","program":"p","time":"2026-01-01T01:00:00Z","participant":"r","channel":"email"}"#
            )
            _ = index
        }
        h.accept(H.click("RRR", visitor: "v9", time: "2026-01-01T02:00:00Z"))
        h.accept(H.click("rrr", visitor: "v8", time: "2026-01-01T02:00:00Z"))
        for index in 1...5 {
            h.accept(H.signup("a\(index)", extra: #","referrer_code":"RRR""#, time: "2026-03-01T00:00:00Z"))
            h.accept(H.convert("a\(index)", order: "o\(index)", amount: 1000, time: "2026-03-01T00:00:\(index)0Z"))
        }
        h.accept(H.convert("a1", order: "o1b", amount: 500, time: "2026-03-02T00:00:00Z"))
        h.accept(H.refund("o1", amount: 400, time: "2026-03-03T00:00:00Z"))
        h.accept(H.signup("b1", extra: #","referrer_code":"QQQ""#, time: "2026-03-01T00:00:00Z"))
        h.accept(H.convert("b1", order: "ob", amount: 2000, time: "2026-03-01T00:01:40Z"))
        h.accept(H.signup("c1", extra: #","referrer_code":"QQQ""#, time: "2026-03-01T00:00:00Z"))
        return h
    }

    @Test func wholeProgram() throws {
        let h = funnel()
        let m = try h.ledger.metrics(program: "p", from: nil, to: nil)
        #expect(m["participants"] == .integer(9))
        #expect(m["referred"] == .integer(7))
        #expect(m["invites"] == .integer(3))
        #expect(m["clicks"] == .integer(2))
        #expect(m["referred_signups"] == .integer(7))
        #expect(m["converted_referees"] == .integer(6))
        #expect(m["k_factor"] == .number("0.777778"))
        #expect(m["invite_conversion"] == .number("2.333333"))
        #expect(m["click_to_signup"] == .number("3.5"))
        #expect(m["active_referrers"] == .integer(2))
        // revenue: 5 × 1000 + 500 − 400 + 2000 = 7100; rewards 10 % = 100 × 5 + 50 + 200 = 750, reversal 40.
        #expect(m["referred_revenue"] == .integer(7100))
        #expect(m["reward_cost"] == .integer(710))
        #expect(m["roi"] == .number("9.0"))
        #expect(m["referred_orders"] == .integer(7))
        #expect(m["avg_order_value"] == .number("1071.428571"))  // 7500 / 7
        #expect(m["revenue_per_converted_referee"] == .number("1183.333333"))
        #expect(m["cost_per_converted_referee"] == .number("118.333333"))
        // times 10, 20, 30, 40, 50, 100 s: p50 at rank 3 → 30; p90 at rank ⌈5.4⌉ = 6 → 100.
        #expect(m["time_to_convert_p50"] == .number("30.0"))
        #expect(m["time_to_convert_p90"] == .number("100.0"))
    }

    @Test func cohortWindowSelectsMembersNotEvents() throws {
        let h = funnel()
        let from = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
        let to = Timestamp(rfc3339: "2026-02-01T00:00:00Z")!  // r only (q signed up at `to`, excluded)
        let m = try h.ledger.metrics(program: "p", from: from, to: to)
        #expect(m["from"] == .string("2026-01-01T00:00:00.000Z"))
        #expect(m["participants"] == .integer(1))
        #expect(m["referred"] == .integer(0))
        #expect(m["referred_signups"] == .integer(5))  // referees signed up after `to`: still counted
        #expect(m["converted_referees"] == .integer(5))
        #expect(m["referred_revenue"] == .integer(5100))
        #expect(m["time_to_convert_p50"] == .number("30.0"))
        #expect(m["time_to_convert_p90"] == .number("50.0"))  // rank ⌈4.5⌉ = 5
        let empty = try h.ledger.metrics(program: "p", from: to, to: from)
        #expect(empty["participants"] == .integer(0))
        #expect(empty["k_factor"] == .null)
    }

    @Test func leaderboardRanksAndBreaksTiesByID() throws {
        let h = funnel()
        let board = try h.ledger.leaderboard(program: "p", by: .referees, limit: 10)
        guard case .array(let rows)? = board["rows"] else {
            Issue.record("no rows")
            return
        }
        #expect(rows.map { $0.objectValue?["participant"] } == [.string("r"), .string("q")])
        let rewards = try h.ledger.leaderboard(program: "p", by: .rewards, limit: 1)
        guard case .array(let top)? = rewards["rows"] else { return }
        #expect(top.count == 1)
        #expect(top.first?.objectValue?["rewards"] == .integer(510))  // 550 − 40
    }

    @Test func participantViewShowsCodeReferrerAndBalance() throws {
        let h = funnel()
        let view = try h.ledger.participantView(program: "p", participant: "a1", at: h.now)
        #expect(view["referrer"] == .string("r"))
        #expect(view["code"] != nil)
        #expect(view["referees"] == .integer(0))
        let root = try h.ledger.participantView(program: "p", participant: "r", at: h.now)
        #expect(root["referrer"] == .null)
        #expect(root["balance"]?.objectValue?["earned"] == .integer(510))
        #expect(throws: LedgerError.self) { try h.ledger.participantView(program: "p", participant: "zz", at: h.now) }
    }
}
