import RefLedgerCore
import Testing

private let now = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

private func decode(_ text: String) throws(LedgerError) -> Fact {
    try FactDecoder.decode(Array(text.utf8), now: now)
}

private func error(_ text: String) -> LedgerError? {
    do {
        _ = try decode(text)
        return nil
    } catch {
        return error
    }
}

private let conversion =
    #"{"id":"c1","type":"conversion","program":"p","time":"2026-11-22T10:00:00Z","participant":"u1","order":"o1","amount":1000,"currency":"USD"}"#

@Suite struct FactDecoderTests {
    @Test func decodesEveryFactType() throws {
        let lines = [
            #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":500}}}"#,
            #"{"id":"b","type":"signup","program":"p","time":"2026-11-22T10:00:00Z","participant":"u1","code":"ABC","referrer_code":"xyz","visitor":"v1"}"#,
            #"{"id":"c","type":"invite","program":"p","time":"2026-11-22T10:00:00Z","participant":"u1","channel":"email","invitee":"h1"}"#,
            #"{"id":"d","type":"click","program":"p","time":"2026-11-22T10:00:00Z","code":"ABC","visitor":"v1"}"#,
            conversion,
            #"{"id":"f","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o1","amount":1}"#,
            #"{"id":"g","type":"payout","program":"p","time":"2026-11-22T10:00:00Z","participant":"u1","payout":"x","amount":5,"currency":"EUR"}"#,
            #"{"id":"h","type":"payout_settled","program":"p","time":"2026-11-22T10:00:00Z","payout":"x"}"#,
            #"{"id":"i","type":"payout_failed","program":"p","time":"2026-11-22T10:00:00Z","payout":"x","reason":"bank said no"}"#,
        ]
        let types = try lines.map { try decode($0).type }
        #expect(types == FactType.allCases)
    }

    @Test func normalizesTimeAndKeepsEverythingElse() throws {
        let fact = try decode(
            #"{"id":"c1","type":"conversion","program":"p","time":"2026-11-22T11:30:00.5+01:30","participant":"u1","order":"o1","amount":1000,"currency":"USD"}"#
        )
        #expect(fact.time.description == "2026-11-22T10:00:00.500Z")
        #expect(fact.clientFields["time"] == .string("2026-11-22T10:00:00.500Z"))
        #expect(fact.clientFields["amount"] == .integer(1000))
        #expect(fact.clientFields.count == 8)
        #expect(fact.payload == .conversion(participant: "u1", order: "o1", amount: 1000, currency: "USD"))
    }

    @Test func rulesTakeDefaultsAndKeepPostedShape() throws {
        let fact = try decode(
            #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"percent_bps":500},"tiers":[{"min_referrals":6,"fixed":9},{"min_referrals":2,"percent_bps":300}],"levels_bps":[200,100],"hold_days":14,"referrer_cap":100000}}"#
        )
        guard case .program(let rules) = fact.payload else {
            Issue.record("not a program")
            return
        }
        #expect(rules.attributionWindowDays == 30)
        #expect(rules.trigger == .firstConversion)
        #expect(rules.tiers.map(\.minReferrals) == [2, 6])
        #expect(rules.levelsBps == [200, 100])
        #expect(rules.referrerCap == 100_000)
        #expect(rules.refereeReward == nil)
        #expect(fact.clientFields["rules"]?.objectValue?["attribution_window_days"] == nil)
    }

    @Test(
        arguments: [
            // (input, code, field)
            ("{", "bad_json", nil),
            ("[1,2]", "bad_json", nil),
            (#"{"id":"a","id":"b"}"#, "bad_json", nil),
            (#"{"id":"a"} x"#, "bad_json", nil),
            (#"{"id":"\ud800"}"#, "bad_json", nil),
            (#"{"id":"c1","program":"p","time":"2026-11-22T10:00:00Z"}"#, "missing_field", "type"),
            (#"{"id":"c1","type":7,"program":"p","time":"2026-11-22T10:00:00Z"}"#, "bad_value", "type"),
            (#"{"id":"c1","type":null,"program":"p","time":"2026-11-22T10:00:00Z"}"#, "bad_value", "type"),
            (#"{"id":"c1","type":"bogus","program":"p","time":"2026-11-22T10:00:00Z"}"#, "unknown_type", "type"),
            (#"{"id":"c1","type":"reward","program":"p","time":"2026-11-22T10:00:00Z"}"#, "derived_type", "type"),
            (#"{"id":"c1","type":"reversal"}"#, "derived_type", "type"),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":1,"extra":null}"#,
                "unknown_field", "extra"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o"}"#,
                "missing_field", "amount"
            ),
            (
                #"{"type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":1}"#,
                "missing_field", "id"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":0}"#,
                "bad_value", "amount"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":1.5}"#,
                "bad_value", "amount"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":1e3}"#,
                "bad_value", "amount"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":-4}"#,
                "bad_value", "amount"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":9007199254740992}"#,
                "bad_value", "amount"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":"5"}"#,
                "bad_value", "amount"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"a@b","amount":5}"#,
                "bad_value", "order"
            ),
            (
                #"{"id":"c 1","type":"refund","program":"p","time":"2026-11-22T10:00:00Z","order":"o","amount":5}"#,
                "bad_value", "id"
            ),
            (
                #"{"id":"c1","type":"refund","program":"P","time":"2026-11-22T10:00:00Z","order":"o","amount":5}"#,
                "bad_value", "program"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22 10:00:00Z","order":"o","amount":5}"#,
                "bad_value", "time"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00.1234Z","order":"o","amount":5}"#,
                "bad_value", "time"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-02-30T10:00:00Z","order":"o","amount":5}"#,
                "bad_value", "time"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T10:00:00","order":"o","amount":5}"#,
                "bad_value", "time"
            ),
            (
                #"{"id":"c1","type":"refund","program":"p","time":"2026-11-22T12:05:00.001Z","order":"o","amount":5}"#,
                "future_time", "time"
            ),
            (
                #"{"id":"c1","type":"click","program":"p","time":"2026-11-22T10:00:00Z","code":"ab","visitor":"v"}"#,
                "bad_value", "code"
            ),
            (
                #"{"id":"c1","type":"invite","program":"p","time":"2026-11-22T10:00:00Z","participant":"u","channel":"fax"}"#,
                "bad_value", "channel"
            ),
            (
                #"{"id":"c1","type":"conversion","program":"p","time":"2026-11-22T10:00:00Z","participant":"u","order":"o","amount":5,"currency":"usd"}"#,
                "bad_value", "currency"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"foo":1}}"#,
                "unknown_field", "rules.foo"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD"}}"#,
                "missing_field", "rules.referrer_reward"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1,"percent_bps":2}}}"#,
                "bad_value", "rules.referrer_reward"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{}}}"#,
                "bad_value", "rules.referrer_reward"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"percent_bps":10001}}}"#,
                "bad_value", "rules.referrer_reward.percent_bps"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"tiers":[{"fixed":1}]}}"#,
                "missing_field", "rules.tiers[0].min_referrals"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"tiers":[{"min_referrals":0,"fixed":1}]}}"#,
                "bad_value", "rules.tiers[0].min_referrals"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"tiers":[{"min_referrals":2,"fixed":1},{"min_referrals":2,"fixed":3}]}}"#,
                "bad_value", "rules.tiers[1].min_referrals"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"levels_bps":[1,2,3,4,5]}}"#,
                "bad_value", "rules.levels_bps"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"trigger":"never"}}"#,
                "bad_value", "rules.trigger"
            ),
            (
                #"{"id":"a","type":"program","program":"p","time":"2026-11-22T10:00:00Z","rules":{"currency":"USD","referrer_reward":{"fixed":1},"hold_days":3651}}"#,
                "bad_value", "rules.hold_days"
            ),
        ] as [(String, String, String?)]
    )
    func rejects(input: String, code: String, field: String?) {
        let failure = error(input)
        #expect(failure?.code.rawValue == code, "\(input)")
        #expect(failure?.field == field, "\(input)")
    }

    @Test func tooLargeIsCheckedFirst() {
        let padded = String(conversion.dropLast()) + String(repeating: " ", count: 65_536) + "}"
        #expect(error(padded)?.code == .tooLarge)
        let fits = String(conversion.dropLast()) + String(repeating: " ", count: 65_536 - conversion.utf8.count) + "}"
        #expect(fits.utf8.count == 65_536)
        #expect(error(fits) == nil)
    }

    /// A line of only spaces, tabs and `\r` is blank (skipped in NDJSON); anything else — a
    /// form feed, a vertical tab, a no-break space — is a line to judge (`bad_json`).
    @Test(arguments: [
        ("", true), (" ", true), ("\t \r", true), ("\r", true), ("\u{0C}", false), ("\u{0B}", false), ("\u{A0}", false),
        (" x ", false),
    ])
    func blankLines(line: String, blank: Bool) {
        #expect(NDJSONLine.isBlank(Array(line.utf8)) == blank, "\(Array(line.utf8))")
        if !blank { #expect(error(line)?.code == .badJSON) }
    }

    /// A line's content ends before one final `\r` (the CR of a CRLF newline), and only one:
    /// the rule both `import` and the daemon's batch splitter use.
    @Test(arguments: [("", 0), ("{}", 2), ("{}\r", 2), ("{}\r\r", 3), ("\r", 0), ("\r{}", 3), (" \r ", 3)])
    func lineContentEndsBeforeAFinalCarriageReturn(line: String, length: Int) {
        let bytes = Array(line.utf8)
        #expect(NDJSONLine.contentEnd(of: bytes) == length)
        // In a slice of a larger buffer (as the daemon's splitter asks), an index into that buffer.
        let buffer = Array("x\r\n".utf8) + bytes
        #expect(NDJSONLine.contentEnd(of: buffer[3...]) == 3 + length)
    }

    /// Deep nesting is judged by what it holds, up to the parser's limit; only beyond it is
    /// the line `bad_json`.
    @Test func deepNestingIsJudgedUpToTheLimit() {
        func nested(_ depth: Int) -> String {
            String(conversion.dropLast()) + #","x":"# + String(repeating: "[", count: depth)
                + String(repeating: "]", count: depth) + "}"
        }
        #expect(error(nested(64))?.code == .unknownField)
        #expect(error(nested(64))?.field == "x")
        #expect(error(nested(JSONParser.maxDepth - 1))?.code == .unknownField)
        #expect(error(nested(JSONParser.maxDepth + 1))?.code == .badJSON)
    }

    @Test func invalidUTF8IsBadJSON() {
        var bytes = Array(
            #"{"id":"c1","type":"payout_failed","program":"p","time":"2026-11-22T10:00:00Z","payout":"x","reason":"ab"}"#
                .utf8
        )
        bytes[bytes.count - 3] = 0xFF
        #expect(throws: LedgerError.self) { try FactDecoder.decode(bytes, now: now) }
        do {
            _ = try FactDecoder.decode(bytes, now: now)
        } catch {
            #expect(error.code == .badJSON)
        }
    }

    @Test func errorsCarryAReadableID() {
        #expect(error(#"{"id":"c 1","type":"nope"}"#)?.id == "c 1")
        #expect(error(#"{"id":5,"type":"nope"}"#)?.id == nil)
    }

    @Test func reasonIsLimitedInBytesNotCharacters() {
        let reason = String(repeating: "é", count: 513)  // 1026 bytes
        let line =
            #"{"id":"c1","type":"payout_failed","program":"p","time":"2026-11-22T10:00:00Z","payout":"x","reason":"\#(reason)"}"#
        #expect(error(line)?.field == "reason")
    }
}
