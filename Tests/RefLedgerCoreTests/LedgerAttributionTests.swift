import RefLedgerCore
import Testing

private typealias H = LedgerHarness

@Suite struct LedgerAttributionTests {
    private func setUp() -> LedgerHarness {
        var h = LedgerHarness()
        h.accept(H.program(#"{"currency":"USD","referrer_reward":{"fixed":100},"attribution_window_days":1}"#))
        h.accept(H.signup("r", extra: #","code":"RRR","visitor":"vr""#))
        h.accept(H.signup("s", extra: #","code":"SSS""#))
        return h
    }

    private func decision(_ h: LedgerHarness) -> (String?, String?) {
        (h.lastFact?["attribution"]?.stringValue, h.lastFact?["referrer"]?.stringValue)
    }

    @Test func windowIncludesBothEnds() {
        var h = setUp()
        h.accept(H.click("RRR", visitor: "v1", time: "2026-01-01T00:00:00Z"))
        h.accept(H.signup("a", extra: #","visitor":"v1""#, time: "2026-01-02T00:00:00Z"))  // exactly 1 day
        #expect(decision(h) == ("click", "r"))
        h.accept(H.click("RRR", visitor: "v2", time: "2026-01-01T00:00:00Z"))
        h.accept(H.signup("b", extra: #","visitor":"v2""#, time: "2026-01-02T00:00:00.001Z"))
        #expect(decision(h) == ("none", nil))
        h.accept(H.click("rrr", visitor: "v3", time: "2026-01-05T00:00:00Z"))
        h.accept(H.signup("c", extra: #","visitor":"v3""#, time: "2026-01-05T00:00:00Z"))  // same instant
        #expect(decision(h) == ("click", "r"))
        h.accept(H.click("RRR", visitor: "v4", time: "2026-01-05T00:00:00.001Z"))  // after the signup
        h.accept(H.signup("d", extra: #","visitor":"v4""#, time: "2026-01-05T00:00:00Z"))
        #expect(decision(h) == ("none", nil))
    }

    @Test func lastClickWinsAndEqualTimesGoToTheHigherSeq() {
        var h = setUp()
        h.accept(H.click("SSS", visitor: "v1", time: "2026-01-01T10:00:00Z"))
        h.accept(H.click("RRR", visitor: "v1", time: "2026-01-01T09:00:00Z"))  // backdated: earlier
        h.accept(H.signup("a", extra: #","visitor":"v1""#, time: "2026-01-01T12:00:00Z"))
        #expect(decision(h) == ("click", "s"))
        h.accept(H.click("SSS", visitor: "v2", time: "2026-01-01T10:00:00Z"))
        h.accept(H.click("RRR", visitor: "v2", time: "2026-01-01T10:00:00Z"))
        h.accept(H.signup("b", extra: #","visitor":"v2""#, time: "2026-01-01T12:00:00Z"))
        #expect(decision(h) == ("click", "r"))
    }

    @Test func referrerCodeWinsOverClicksAndUnknownCodesStayUnattributed() {
        var h = setUp()
        h.accept(H.click("RRR", visitor: "v1", time: "2026-01-01T10:00:00Z"))
        h.accept(H.signup("a", extra: #","referrer_code":"sss","visitor":"v1""#, time: "2026-01-01T12:00:00Z"))
        #expect(decision(h) == ("referrer_code", "s"))
        h.accept(H.signup("b", extra: #","referrer_code":"NOPE","visitor":"v1""#, time: "2026-01-01T12:00:00Z"))
        #expect(decision(h) == ("unknown_code", nil))
        #expect(h.refuse(H.click("NOPE", visitor: "v1", time: "2026-01-01T10:00:00Z")) == .unknownCode)
    }

    @Test func selfReferralIsStoredButRefusedAttribution() throws {
        var h = setUp()
        let derived = h.accept(H.signup("a", extra: #","referrer_code":"RRR","visitor":"vr""#))
        #expect(derived.isEmpty)
        #expect(decision(h) == ("self_referral", nil))
        #expect(h.lastFact?["self_referrer"] == .string("r"))
        h.accept(H.click("RRR", visitor: "vr", time: "2026-01-02T00:00:00Z"))
        h.accept(H.signup("b", extra: #","visitor":"vr""#, time: "2026-01-02T00:00:00Z"))
        #expect(decision(h) == ("self_referral", nil))
        let metrics = try h.ledger.metrics(program: "p", from: nil, to: nil)
        #expect(metrics["self_referrals"] == .integer(2))
        #expect(metrics["referred_signups"] == .integer(0))
    }

    @Test func codesAreAssignedFromTheHashWithASuffixOnCollision() {
        var h = setUp()
        h.accept(H.signup("u1"))
        #expect(h.lastFact?["code"] == .string("YFG5RG1Q"))
        #expect(h.lastFact?["code_assigned"] == .bool(true))
        // Someone takes u2's code first (in other case): u2 gets the suffix.
        h.accept(H.signup("x", extra: #","code":"3szmrjac""#))
        #expect(h.lastFact?["code_assigned"] == nil)
        h.accept(H.signup("u2"))
        #expect(h.lastFact?["code"] == .string("3SZMRJAC2"))
        #expect(h.refuse(H.signup("y", extra: #","code":"3SZMRJAC2""#)) == .codeTaken)
        #expect(h.refuse(H.signup("u2")) == .participantExists)
    }

    /// A signup refused as `participant_exists` claims nothing — not a code it gives, not a
    /// code it would be assigned, no referral — even after attribution was worked out for it;
    /// and with its code taken too, `participant_exists` is the error (SPEC §2's order).
    @Test func aRefusedSignupLeavesTheLedgerAsItWas() {
        var h = setUp()
        h.accept(H.signup("u1"))
        h.accept(H.click("RRR", visitor: "v9", time: "2026-01-01T12:00:00Z"))
        let before = h.ledger.snapshotBytes()
        #expect(h.refuse(H.signup("u1", extra: #","code":"FREE1","referrer_code":"RRR""#)) == .participantExists)
        #expect(h.refuse(H.signup("u1", extra: #","visitor":"v9""#)) == .participantExists)
        #expect(h.refuse(H.signup("u1", extra: #","code":"rrr""#)) == .participantExists)
        #expect(h.refuse(H.signup("u9", extra: #","code":"rrr""#)) == .codeTaken)
        #expect(h.ledger.snapshotBytes() == before, "nothing changed")
        // The code the refused signup gave is still free, and the referrer counts no referee.
        h.accept(H.signup("u2", extra: #","code":"free1""#))
        let view = try? h.ledger.participantView(program: "p", participant: "r", at: h.now)
        #expect(view?["referees"] == .integer(0))
    }
}
