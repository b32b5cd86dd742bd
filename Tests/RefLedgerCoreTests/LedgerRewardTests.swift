import RefLedgerCore
import Testing

private typealias H = LedgerHarness

@Suite struct LedgerRewardTests {
    @Test func percentRoundsHalfUp() {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"percent_bps":500}}"#))
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        h.accept(H.signup("a", extra: #","referrer_code":"rrr""#))
        h.accept(H.signup("b", extra: #","referrer_code":"RRR""#))
        #expect(h.accept(H.convert("a", order: "o1", amount: 1010)).map(\.amount) == [51])  // 50.5 → 51
        #expect(h.accept(H.convert("b", order: "o2", amount: 1009)).map(\.amount) == [50])  // 50.45 → 50
    }

    @Test func refundsReverseProportionallyAndExactlyInFull() {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"percent_bps":500},"referee_reward":{"fixed":7}}"#))
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        h.accept(H.signup("a", extra: #","referrer_code":"RRR""#))
        let rewards = h.accept(H.convert("a", order: "o1", amount: 1010))
        #expect(rewards.map(\.amount) == [51, 7])
        #expect(rewards.map(\.role) == ["referrer", "referee"])
        // Half refunded: round_half_up(51 × 505 / 1010) = 26 (25.5 → 26); 7 × 0.5 = 3.5 → 4.
        let first = h.accept(H.refund("o1", amount: 505))
        #expect(first.map(\.amount) == [26, 4])
        #expect(first.map { $0["reward"]?.stringValue } == [rewards[0].id, rewards[1].id])
        // The rest: each reward reversed exactly in total.
        let second = h.accept(H.refund("o1", amount: 505))
        #expect(second.map(\.amount) == [25, 3])
        #expect(h.refuse(H.refund("o1", amount: 1)) == .overRefund)
        #expect(h.refuse(H.refund("nope", amount: 1)) == .unknownOrder)
        let balance = try? h.ledger.balance(program: "p", participant: "r", at: h.now)
        #expect(balance?.earned == 0)
        #expect(balance?.reversed == 51)
    }

    @Test func tiersApplyAtTheirThresholds() {
        var h = LedgerHarness()
        h.accept(
            H.program(
                #"{"currency":"USD","referrer_reward":{"fixed":100},"tiers":[{"min_referrals":3,"fixed":777},{"min_referrals":2,"percent_bps":300}]}"#
            )
        )
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        for name in ["a", "b", "c", "d"] { h.accept(H.signup(name, extra: #","referrer_code":"RRR""#)) }
        #expect(h.accept(H.convert("a", order: "o1", amount: 1000)).map(\.amount) == [100])  // 1 < 2
        #expect(h.accept(H.convert("a", order: "o1b", amount: 1000)).isEmpty)  // not a first conversion
        #expect(h.accept(H.convert("b", order: "o2", amount: 1000)).map(\.amount) == [30])  // 2: 3%
        #expect(h.accept(H.convert("c", order: "o3", amount: 1000)).map(\.amount) == [777])  // 3
        #expect(h.accept(H.convert("d", order: "o4", amount: 1000)).map(\.amount) == [777])  // 4 > 3
    }

    @Test func fiveLevelChain() {
        var h = LedgerHarness()
        h.accept(
            H.program(
                #"{"currency":"USD","referrer_reward":{"percent_bps":500},"levels_bps":[200,0,50,25],"trigger":"every_conversion"}"#
            )
        )
        h.accept(H.signup("a", extra: #","code":"AAA""#))
        h.accept(H.signup("b", extra: #","code":"BBB","referrer_code":"AAA""#))
        h.accept(H.signup("c", extra: #","code":"CCC","referrer_code":"BBB""#))
        h.accept(H.signup("d", extra: #","code":"DDD","referrer_code":"CCC""#))
        h.accept(H.signup("e", extra: #","code":"EEE","referrer_code":"DDD""#))
        h.accept(H.signup("f", extra: #","referrer_code":"EEE""#))
        let rewards = h.accept(H.convert("f", order: "o1", amount: 10_000))
        // level3 (c) has 0 bps and is skipped; the walk goes on to b and a.
        #expect(rewards.map(\.beneficiary) == ["e", "d", "b", "a"])
        #expect(rewards.map(\.role) == ["referrer", "level2", "level4", "level5"])
        #expect(rewards.map(\.amount) == [500, 200, 50, 25])
        #expect(
            rewards.map { $0.id } == ["f12/1", "f12/2", "f12/3", "f12/4"] || rewards.allSatisfy { $0.id.contains("/") }
        )
        // Every conversion derives again.
        // 0.5 → 1, 0.25 → 0 skipped
        #expect(h.accept(H.convert("f", order: "o2", amount: 100)).map(\.amount) == [5, 2, 1])
    }

    @Test func capCutsToTheRemainderThenToNothing() {
        var h = LedgerHarness()
        h.accept(
            H.program(
                #"{"currency":"USD","referrer_reward":{"fixed":100},"referee_reward":{"fixed":5},"referrer_cap":120}"#
            )
        )
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        for name in ["a", "b", "c"] { h.accept(H.signup(name, extra: #","referrer_code":"RRR""#)) }
        #expect(h.accept(H.convert("a", order: "o1", amount: 1000)).map(\.amount) == [100, 5])
        #expect(h.accept(H.convert("b", order: "o2", amount: 1000)).map(\.amount) == [20, 5])
        #expect(h.accept(H.convert("c", order: "o3", amount: 1000)).map(\.role) == ["referee"])
        // A refund does not free cap room (gross).
        h.accept(H.refund("o1", amount: 1000))
        h.accept(H.signup("d", extra: #","referrer_code":"RRR""#))
        #expect(h.accept(H.convert("d", order: "o4", amount: 1000)).map(\.role) == ["referee"])
    }

    @Test func signupTriggerPaysFixedOnlyAndIgnoresLevels() {
        var h = LedgerHarness()
        h.accept(
            H.program(
                #"{"currency":"USD","trigger":"signup","referrer_reward":{"fixed":300},"referee_reward":{"percent_bps":100},"levels_bps":[100]}"#
            )
        )
        h.accept(H.signup("g", extra: #","code":"GGG""#))
        h.accept(H.signup("r", extra: #","code":"RRR","referrer_code":"GGG""#))
        let rewards = h.accept(H.signup("a", extra: #","referrer_code":"RRR""#))
        #expect(rewards.map(\.amount) == [300])
        #expect(rewards.first?["order"] == nil)
        #expect(h.accept(H.convert("a", order: "o1", amount: 1000)).isEmpty)
        // Signup rewards are never reversed.
        #expect(h.accept(H.refund("o1", amount: 1000)).isEmpty)
    }

    @Test func holdBoundaryIsEarnedAtAvailableAt() throws {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"fixed":100},"hold_days":14}"#))
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        h.accept(H.signup("a", extra: #","referrer_code":"RRR""#))
        let reward = h.accept(H.convert("a", order: "o1", amount: 1000, time: "2026-01-03T00:00:00Z"))
        #expect(reward.first?["available_at"] == .string("2026-01-17T00:00:00.000Z"))
        let before = try h.ledger.balance(
            program: "p",
            participant: "r",
            at: Timestamp(rfc3339: "2026-01-16T23:59:59.999Z")!
        )
        #expect(before.pending == 100 && before.earned == 0 && before.available == 0)
        let at = try h.ledger.balance(program: "p", participant: "r", at: Timestamp(rfc3339: "2026-01-17T00:00:00Z")!)
        #expect(at.pending == 0 && at.earned == 100 && at.available == 100)
        // A payout is judged at its own time: before the hold ends there is nothing to pay.
        #expect(h.refuse(H.payout("r", payout: "x0", amount: 1, time: "2026-01-16T00:00:00Z")) == .insufficientFunds)
        h.accept(H.payout("r", payout: "x1", amount: 60, time: "2026-01-17T00:00:00Z"))
        #expect(h.refuse(H.payout("r", payout: "x2", amount: 41, time: "2026-01-18T00:00:00Z")) == .insufficientFunds)
    }

    @Test func clawbackOfPaidMoneyGoesNegative() throws {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"fixed":100}}"#))
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        h.accept(H.signup("a", extra: #","referrer_code":"RRR""#))
        h.accept(H.convert("a", order: "o1", amount: 1000))
        h.accept(H.payout("r", payout: "x1", amount: 100))
        h.accept(#"{"type":"payout_settled","program":"p","time":"2026-02-02T00:00:00Z","payout":"x1"}"#)
        #expect(
            h.refuse(#"{"type":"payout_failed","program":"p","time":"2026-02-02T00:00:00Z","payout":"x1"}"#)
                == .payoutFinished
        )
        #expect(
            h.refuse(#"{"type":"payout_failed","program":"p","time":"2026-02-02T00:00:00Z","payout":"x9"}"#)
                == .unknownPayout
        )
        h.accept(H.refund("o1", amount: 1000))
        let balance = try h.ledger.balance(program: "p", participant: "r", at: h.now)
        #expect(balance.earned == 0 && balance.paid == 100 && balance.available == -100 && balance.reversed == 100)
    }

    @Test func failedPayoutReturnsTheReservation() throws {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"fixed":100}}"#))
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        h.accept(H.signup("a", extra: #","referrer_code":"RRR""#))
        h.accept(H.convert("a", order: "o1", amount: 1000))
        h.accept(H.payout("r", payout: "x1", amount: 70))
        #expect(try h.ledger.balance(program: "p", participant: "r", at: h.now).reserved == 70)
        #expect(h.refuse(H.payout("r", payout: "x1", amount: 1)) == .duplicatePayout)
        h.accept(#"{"type":"payout_failed","program":"p","time":"2026-02-02T00:00:00Z","payout":"x1","reason":"bank"}"#)
        let balance = try h.ledger.balance(program: "p", participant: "r", at: h.now)
        #expect(balance.reserved == 0 && balance.available == 100)
    }

    @Test func ruleChangeAppliesFromItsSeqAndKeepsCurrency() {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"fixed":100}}"#))
        h.accept(H.signup("r", extra: #","code":"RRR""#))
        h.accept(H.signup("a", extra: #","referrer_code":"RRR""#))
        h.accept(H.signup("b", extra: #","referrer_code":"RRR""#))
        #expect(h.accept(H.convert("a", order: "o1", amount: 1000)).map(\.amount) == [100])
        #expect(h.refuse(H.program(#"{"currency":"EUR","referrer_reward":{"fixed":1}}"#)) == .currencyMismatch)
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"fixed":250}}"#))
        #expect(h.accept(H.convert("b", order: "o2", amount: 1000)).map(\.amount) == [250])
        #expect(h.refuse(H.convert("b", order: "o3", amount: 1000, currency: "EUR")) == .currencyMismatch)
        #expect(h.refuse(H.convert("b", order: "o2", amount: 1000)) == .duplicateOrder)
        #expect(h.refuse(H.convert("zz", order: "o9", amount: 1000)) == .unknownParticipant)
    }

    @Test func factsOfUnknownProgramsAreRefused() {
        var h = LedgerHarness()
        #expect(h.refuse(H.signup("a")) == .unknownProgram)
        #expect(h.ledger.head == 0)
    }
}
