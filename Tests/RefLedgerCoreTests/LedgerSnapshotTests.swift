import Dispatch
import RefLedgerCore
import Testing

/// `Ledger.snapshotBytes()` and `Ledger(snapshot:sha256:)`: a faithful, deterministic round
/// trip of every kind of state, and damaged bytes refused with an error, never a trap.
@Suite struct LedgerSnapshotTests {
    /// A ledger with every kind of state: two programs (tiers, levels, cap, hold, rule
    /// change), custom and assigned codes, attribution by code and by click, a self-referral,
    /// conversions, a partial refund, and payouts open, settled and failed.
    static func busyLedger() -> LedgerHarness {
        var harness = LedgerHarness()
        harness.accept(
            LedgerHarness.program(
                #"{"currency":"USD","trigger":"every_conversion","referrer_reward":{"percent_bps":500},"referee_reward":{"fixed":300},"tiers":[{"min_referrals":2,"percent_bps":800}],"levels_bps":[200,100],"hold_days":3,"referrer_cap":5000}"#
            )
        )
        harness.accept(
            LedgerHarness.program(
                #"{"currency":"EUR","trigger":"signup","referrer_reward":{"fixed":100}}"#,
                program: "q"
            )
        )
        harness.accept(LedgerHarness.signup("ann", extra: #","code":"ANN","visitor":"va""#))
        harness.accept(LedgerHarness.signup("bob", extra: #","referrer_code":"ann""#))
        harness.accept(LedgerHarness.click("ANN", visitor: "vc", time: "2026-01-02T01:00:00Z"))
        harness.accept(LedgerHarness.signup("cid", extra: #","visitor":"vc""#, time: "2026-01-02T02:00:00Z"))
        harness.accept(LedgerHarness.signup("dee", extra: #","referrer_code":"ANN","visitor":"va""#))
        harness.accept(LedgerHarness.signup("eve", extra: #","referrer_code":"\#(harness.code(of: "bob"))""#))
        harness.accept(LedgerHarness.convert("bob", order: "o1", amount: 10_000))
        harness.accept(LedgerHarness.convert("cid", order: "o2", amount: 20_000))
        harness.accept(LedgerHarness.convert("eve", order: "o3", amount: 30_000))
        harness.accept(LedgerHarness.refund("o3", amount: 7_000))
        harness.accept(LedgerHarness.payout("ann", payout: "pa", amount: 100))
        harness.accept(LedgerHarness.payout("ann", payout: "pb", amount: 100))
        harness.accept(LedgerHarness.payout("bob", payout: "pc", amount: 100))
        harness.accept(#"{"type":"payout_settled","program":"p","time":"2026-02-02T00:00:00Z","payout":"pa"}"#)
        harness.accept(#"{"type":"payout_failed","program":"p","time":"2026-02-02T00:00:00Z","payout":"pb"}"#)
        harness.accept(#"{"type":"signup","program":"q","time":"2026-01-05T00:00:00Z","participant":"ann"}"#)
        harness.accept(
            #"{"type":"signup","program":"q","time":"2026-01-06T00:00:00Z","participant":"fay","referrer_code":"\#(harness.code(of: "ann", program: "q"))"}"#
        )
        return harness
    }

    /// The facts applied after a snapshot: they touch every kind of state again.
    static let laterFacts = [
        LedgerHarness.convert("bob", order: "o4", amount: 5_000, time: "2026-03-01T00:00:00Z"),
        LedgerHarness.refund("o1", amount: 10_000, time: "2026-03-02T00:00:00Z"),
        LedgerHarness.signup("gus", extra: #","referrer_code":"ann""#, time: "2026-03-03T00:00:00Z"),
        LedgerHarness.convert("gus", order: "o5", amount: 50_000, time: "2026-03-04T00:00:00Z"),
        #"{"type":"payout_settled","program":"p","time":"2026-03-05T00:00:00Z","payout":"pc"}"#,
        LedgerHarness.payout("ann", payout: "pd", amount: 100, time: "2026-03-06T00:00:00Z"),
        LedgerHarness.signup("ann", time: "2026-03-07T00:00:00Z"),
        LedgerHarness.refund("o9", amount: 1, time: "2026-03-08T00:00:00Z"),
    ]

    @Test func roundTripIsFaithfulAndDeterministic() throws {
        var original = Self.busyLedger()
        let bytes = original.ledger.snapshotBytes()
        #expect(bytes == original.ledger.snapshotBytes(), "the same state encodes to the same bytes")
        var restored = original
        restored.ledger = try Ledger(snapshot: bytes, sha256: LedgerHarness.sha256)
        #expect(restored.ledger.head == original.ledger.head)
        #expect(restored.ledger.snapshotBytes() == bytes)
        #expect(restored.ledger.programNames == ["p", "q"])
        try expectSameAnswers(original.ledger, restored.ledger)
        for fact in Self.laterFacts {
            #expect(Self.outcome(restored.post(fact)) == Self.outcome(original.post(fact)), "\(fact)")
        }
        #expect(restored.ledger.snapshotBytes() == original.ledger.snapshotBytes())
        try expectSameAnswers(original.ledger, restored.ledger)
    }

    /// What posting a fact did, comparable: the stored events' bytes, or the error code.
    static func outcome(_ result: Result<[StoredEvent], LedgerError>) -> [String] {
        switch result {
        case .success(let events): events.map { String(decoding: $0.canonicalBody(), as: UTF8.self) }
        case .failure(let error): [error.code.rawValue]
        }
    }

    /// The sections of a program are written apart: in whichever order a fork runs them, or on
    /// two threads, the bytes are the same.
    @Test func sectionsWrittenThroughAForkGiveTheSameBytes() {
        let ledger = Self.busyLedger().ledger
        let bytes = ledger.snapshotBytes()
        #expect(
            ledger.snapshotBytes(fork: { first, second in
                second()
                first()
            }) == bytes
        )
        #expect(
            ledger.snapshotBytes(fork: { first, second in
                let done = DispatchSemaphore(value: 0)
                DispatchQueue.global().async {
                    first()
                    done.signal()
                }
                second()
                done.wait()
            }) == bytes
        )
    }

    @Test func aDetachedLedgerEncodesAsBefore() {
        var ledger = Self.busyLedger().ledger
        let copy = ledger
        ledger.detach()
        #expect(ledger.snapshotBytes() == copy.snapshotBytes())
    }

    @Test func everyTruncationIsAnError() throws {
        let bytes = Self.busyLedger().ledger.snapshotBytes()
        for length in 0..<bytes.count {
            #expect(throws: Ledger.SnapshotError.self, "\(length) bytes") {
                try Ledger(snapshot: Array(bytes[..<length]), sha256: LedgerHarness.sha256)
            }
        }
    }

    @Test func malformedHeadersAndTrailersAreErrors() throws {
        let bytes = Self.busyLedger().ledger.snapshotBytes()
        func reason(_ damaged: [UInt8]) -> String {
            do {
                _ = try Ledger(snapshot: damaged, sha256: LedgerHarness.sha256)
                return "decoded"
            } catch {
                return error.reason
            }
        }
        #expect(reason(Array("JSON".utf8) + bytes.dropFirst(4)) == "not a ledger snapshot")
        #expect(reason(Array(bytes[..<4]) + [2] + bytes.dropFirst(5)).contains("snapshot format 2"))
        #expect(reason(bytes + [0]) == "1 bytes after the end of the snapshot")
        #expect(
            reason(Array(bytes[..<5]) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
                == "varint over 64 bits"
        )
        // A program count far beyond what the bytes could hold is refused before allocating.
        #expect(reason(Array(bytes[..<6]) + [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]).contains("exceeds"))
    }

    /// Any single flipped byte is refused or decodes to a consistent state: one that encodes
    /// and decodes again to the same bytes. Never a trap.
    @Test func flippedBytesAreRefusedOrConsistent() throws {
        let bytes = Self.busyLedger().ledger.snapshotBytes()
        var refused = 0
        for index in bytes.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = bytes
                damaged[index] ^= mask
                guard let ledger = try? Ledger(snapshot: damaged, sha256: LedgerHarness.sha256) else {
                    refused += 1
                    continue
                }
                let again = ledger.snapshotBytes()
                #expect(try Ledger(snapshot: again, sha256: LedgerHarness.sha256).snapshotBytes() == again)
            }
        }
        #expect(refused > bytes.count, "most damage is detected by the format itself")
    }

    private func expectSameAnswers(_ a: Ledger, _ b: Ledger) throws {
        let at = Timestamp(rfc3339: "2026-01-05T00:00:00Z")!
        for program in a.programNames {
            #expect(a.rules(of: program) == b.rules(of: program))
            #expect(a.balances(program: program, at: at) == b.balances(program: program, at: at))
            for id in a.participantIDs(program: program) {
                #expect(
                    CanonicalJSON.encode(try a.participantView(program: program, participant: id, at: at))
                        == CanonicalJSON.encode(try b.participantView(program: program, participant: id, at: at))
                )
            }
            for (from, to) in [(nil, nil), (at, nil), (nil, at)] as [(Timestamp?, Timestamp?)] {
                #expect(
                    CanonicalJSON.encode(try a.metrics(program: program, from: from, to: to))
                        == CanonicalJSON.encode(try b.metrics(program: program, from: from, to: to))
                )
            }
            for order in LeaderboardOrder.allCases {
                #expect(
                    CanonicalJSON.encode(try a.leaderboard(program: program, by: order, limit: 100))
                        == CanonicalJSON.encode(try b.leaderboard(program: program, by: order, limit: 100))
                )
            }
        }
    }
}

extension LedgerHarness {
    /// The code `participant` got at signup in `program`.
    func code(of participant: String, program: String = "p") -> String {
        events.first {
            $0.type == "signup" && $0["participant"]?.stringValue == participant
                && $0["program"]?.stringValue == program
        }?[
            "code"
        ]?.stringValue ?? ""
    }
}
