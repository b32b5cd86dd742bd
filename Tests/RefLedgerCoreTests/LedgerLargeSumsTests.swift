import RefLedgerCore
import Testing

/// One amount is at most 2^53 − 1 (SPEC §2), but nothing bounds their sums: balances, revenue
/// and cost pass 2^63 after ~1,024 maximal amounts and must stay exact (no trap, no wrap).
@Suite struct LedgerLargeSumsTests {
    static let maxAmount = 9_007_199_254_740_991
    static let conversions = 1_100

    /// A referrer paid 100% of each of `conversions` maximal orders of one referee, who paid
    /// out one maximal amount; one order is refunded in full.
    static func ledger() -> LedgerHarness {
        var harness = LedgerHarness()
        harness.accept(
            LedgerHarness.program(
                #"{"currency":"USD","trigger":"every_conversion","referrer_reward":{"percent_bps":10000}}"#
            )
        )
        harness.accept(LedgerHarness.signup("ref", extra: #","code":"REF""#))
        harness.accept(LedgerHarness.signup("buyer", extra: #","referrer_code":"REF""#))
        for index in 0..<conversions {
            harness.accept(LedgerHarness.convert("buyer", order: "o\(index)", amount: maxAmount))
        }
        harness.accept(LedgerHarness.refund("o0", amount: maxAmount))
        harness.accept(LedgerHarness.payout("ref", payout: "pay", amount: maxAmount))
        return harness
    }

    @Test func balancesMetricsAndLeaderboardsStayExact() throws {
        let harness = Self.ledger()
        let max = Money(Self.maxAmount)
        let kept = Money(Self.conversions - 1) * max
        #expect(kept > Money(Int64.max))

        let balance = try harness.ledger.balance(program: "p", participant: "ref", at: harness.now)
        #expect(balance.earned == kept)
        #expect(balance.reversed == max)
        #expect(balance.reserved == max)
        #expect(balance.available == kept - max)
        let view = try harness.ledger.participantView(program: "p", participant: "ref", at: harness.now)
        #expect(view["balance"]?.objectValue?["earned"] == .number(String(kept)))
        #expect(view["balance"]?.objectValue?["reserved"] == .integer(Int64(Self.maxAmount)))

        let metrics = try harness.ledger.metrics(program: "p", from: nil, to: nil)
        #expect(metrics["referred_revenue"] == .number(String(kept)))
        #expect(metrics["reward_cost"] == .number(String(kept)))
        #expect(metrics["roi"] == .number("0.0"))
        // Order amounts are not reduced by refunds (revenue is).
        #expect(metrics["avg_order_value"] == .number("\(max).0"))
        #expect(metrics["revenue_per_converted_referee"] == .number("\(kept).0"))

        let board = try harness.ledger.leaderboard(program: "p", by: .rewards, limit: 10)
        let rows = try #require(
            board["rows"].flatMap { value -> [JSONValue]? in
                if case .array(let rows) = value { return rows }
                return nil
            }
        )
        #expect(rows.first?.objectValue?["rewards"] == .number(String(kept)))
        #expect(harness.ledger.netRewards(program: "p") == kept)
    }

    @Test func aSnapshotKeepsSumsBeyond64Bits() throws {
        let harness = Self.ledger()
        let bytes = harness.ledger.snapshotBytes()
        let restored = try Ledger(snapshot: bytes, sha256: LedgerHarness.sha256)
        #expect(restored.snapshotBytes() == bytes)
        #expect(
            try restored.balance(program: "p", participant: "ref", at: harness.now)
                == harness.ledger.balance(program: "p", participant: "ref", at: harness.now)
        )
        #expect(
            try restored.metrics(program: "p", from: nil, to: nil)
                == harness.ledger.metrics(program: "p", from: nil, to: nil)
        )
    }

    @Test func fixedSignupRewardsAddUpPast64Bits() throws {
        var harness = LedgerHarness()
        harness.accept(
            LedgerHarness.program(
                #"{"currency":"USD","trigger":"signup","referrer_reward":{"fixed":\#(Self.maxAmount)}}"#
            )
        )
        harness.accept(LedgerHarness.signup("ref", extra: #","code":"REF""#))
        for index in 0..<Self.conversions {
            harness.accept(LedgerHarness.signup("u\(index)", extra: #","referrer_code":"REF""#))
        }
        let total = Money(Self.conversions) * Money(Self.maxAmount)
        #expect(try harness.ledger.balance(program: "p", participant: "ref", at: harness.now).earned == total)
        let metrics = try harness.ledger.metrics(program: "p", from: nil, to: nil)
        #expect(metrics["reward_cost"] == .number(String(total)))
    }
}
