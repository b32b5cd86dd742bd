import RefLedgerCore

/// Facts that break the decoding rules (SPEC §2 stage 1), and re-posts (stage 2).
extension TrafficGenerator {
    /// One deliberately invalid fact, of an error code drawn uniformly (`too_large`, whose
    /// lines are 70 kB, twenty times less often).
    mutating func emitInvalid() -> LineKind {
        var code = random.pick(Self.producibleErrors)
        while code == .tooLarge, random.below(20) != 0 { code = random.pick(Self.producibleErrors) }
        guard let program = pickLiveProgram() else { return unknownProgram() }
        switch code {
        case .badJSON: return badJSON(program)
        case .unknownField: return unknownField(program)
        case .missingField: return missingField(program)
        case .badValue: return badValue(program)
        case .unknownType, .derivedType: return wrongType(program, derived: code == .derivedType)
        case .futureTime: return futureTime(program)
        case .tooLarge: return tooLarge(program)
        default: return stateError(code, program: program)
        }
    }

    /// The envelope and body of an invite by some member, left open for more members.
    mutating func openInvite(_ program: Int, type: StaticString = "invite") {
        envelope(type, program: program)
        if programs[program].members.isEmpty {
            out.id("participant", "u", 0)
        } else {
            writeParticipant(program, random.below(programs[program].members.count))
        }
        out.string("channel", "email")
    }

    private mutating func badJSON(_ program: Int) -> LineKind {
        switch random.below(5) {
        case 0:  // cut short
            let start = out.count
            openInvite(program)
            out.removeLast((out.count - start) / 3)
        case 1:
            out.raw(random.pick(["[\"signup\",\"u1\"]", "\"signup\"", "42", "null", "true"] as [StaticString]))
        case 2:  // a key twice
            out.begin()
            out.id("id", "e", Int64(linesWritten))
            out.id("id", "e", Int64(linesWritten))
            out.string("type", "invite")
            out.string("program", programs[program].name)
            _ = writeTime()
            out.id("participant", "u", 1)
            out.string("channel", "sms")
            out.end()
        case 3:  // something after the object
            openInvite(program)
            out.end()
            out.raw(random.chance(0.5) ? "}" : " x")
        default:
            out.raw("{'id':'e")
            out.decimal(Int64(linesWritten))
            out.raw("','type':'invite'}")
        }
        return .invalid(.badJSON)
    }

    private mutating func unknownField(_ program: Int) -> LineKind {
        switch random.below(4) {
        case 0:
            openInvite(program)
            out.string("coupon", "SPRING")
        case 1:
            envelope("signup", program: program)
            out.id("participant", "u", newNumber())
            out.string("email", "someone")
        case 2:
            programFact(program, #"{"currency":"USD","referrer_reward":{"fixed":100},"bonus":1}"#)
        default:
            programFact(
                program,
                #"{"currency":"USD","referrer_reward":{"fixed":100},"tiers":[{"min_referrals":2,"fixed":5,"max_referrals":9}]}"#
            )
        }
        out.end()
        return .invalid(.unknownField)
    }

    /// `{…envelope…,"rules":<rules>` for `program`.
    mutating func programFact(_ program: Int, _ rules: StaticString) {
        envelope("program", program: program)
        out.key("rules")
        out.raw(rules)
    }

    private mutating func missingField(_ program: Int) -> LineKind {
        switch random.below(8) {
        case 0:
            envelope("signup", program: program)
        case 1:
            envelope("conversion", program: program)
            out.id("participant", "u", 1)
            out.id("order", "o", newNumber())
            out.integer("amount", 1000)
        case 2:
            envelope("refund", program: program)
            out.id("order", "o", 1)
        case 3:
            envelope("program", program: program)
        case 4:  // no id
            out.begin()
            out.string("type", "invite")
            out.string("program", programs[program].name)
            _ = writeTime()
            out.id("participant", "u", 1)
            out.string("channel", "link")
        case 5:  // no time
            out.begin()
            out.id("id", "e", Int64(linesWritten))
            out.string("type", "payout_settled")
            out.string("program", programs[program].name)
            out.id("payout", "po", 1)
        case 6:
            programFact(program, #"{"currency":"USD","trigger":"signup"}"#)
        default:
            programFact(program, #"{"currency":"USD","referrer_reward":{"fixed":1},"tiers":[{"fixed":5}]}"#)
        }
        out.end()
        return .invalid(.missingField)
    }

    private mutating func badValue(_ program: Int) -> LineKind {
        let variant = random.below(24)
        switch variant {
        case 0..<6:  // amounts: zero, negative, a fraction, a string, 2^53, an exponent
            envelope("conversion", program: program)
            out.id("participant", "u", 1)
            out.id("order", "o", newNumber())
            out.key("amount")
            out.raw(random.pick(["0", "-5", "12.5", "\"100\"", "9007199254740992", "1e3"] as [StaticString]))
            out.string("currency", programs[program].template.currency)
        case 6:
            envelope("payout", program: program)
            out.id("participant", "u", 1)
            out.id("payout", "po", newNumber())
            out.integer("amount", 100)
            out.string("currency", "usd")
        case 7:
            envelope("invite", program: program)
            out.string("participant", "ann@example.com")
            out.string("channel", "email")
        case 8:
            envelope("invite", program: program)
            out.id("participant", "u", 1)
            out.string("channel", "fax")
        case 9:
            envelope("signup", program: program)
            out.id("participant", "u", newNumber())
            out.key("visitor")
            out.raw("null")
        case 10..<13:  // times: no such day, a space for the T, four fraction digits
            out.begin()
            out.id("id", "e", Int64(linesWritten))
            out.string("type", "invite")
            out.string("program", programs[program].name)
            out.string(
                "time",
                random.pick(
                    ["2026-02-30T10:00:00Z", "2026-01-05 10:00:00Z", "2026-01-05T10:00:00.1234Z"] as [StaticString]
                )
            )
            out.id("participant", "u", 1)
            out.string("channel", "sms")
        case 13:
            envelope("click", program: program)
            out.string("code", "ab")
            out.id("visitor", "v", 1)
        case 14:
            out.begin()
            out.id("id", "e", Int64(linesWritten))
            out.string("type", "invite")
            out.string("program", "Shop")
            _ = writeTime()
            out.id("participant", "u", 1)
            out.string("channel", "sms")
        case 15:
            out.begin()
            out.id("id", "e", Int64(linesWritten))
            out.key("type")
            out.raw(random.chance(0.5) ? "5" : "null")
            out.string("program", programs[program].name)
        case 16:  // "e<n>/1": a derived event's id shape
            out.begin()
            out.key("id")
            out.raw("\"e")
            out.decimal(Int64(linesWritten))
            out.raw("/1\"")
            out.string("type", "invite")
            out.string("program", programs[program].name)
            _ = writeTime()
            out.id("participant", "u", 1)
            out.string("channel", "sms")
        case 17:
            envelope("payout_failed", program: program)
            out.id("payout", "po", 1)
            out.string("reason", Array(repeating: UInt8(ascii: "r"), count: 1025))
        default:
            programFact(program, random.pick(Self.badRules))
        }
        out.end()
        return .invalid(.badValue)
    }

    private static let badRules: [StaticString] = [
        #"{"currency":"USD","referrer_reward":{"fixed":100,"percent_bps":100}}"#,
        #"{"currency":"USD","referrer_reward":{}}"#,
        #"{"currency":"USD","referrer_reward":{"fixed":1},"tiers":[{"min_referrals":2,"fixed":5},{"min_referrals":2,"fixed":6}]}"#,
        #"{"currency":"USD","referrer_reward":{"percent_bps":100},"levels_bps":[1,2,3,4,5]}"#,
        #"{"currency":"USD","referrer_reward":{"fixed":1},"hold_days":4000}"#,
        #"{"currency":"USD","referrer_reward":{"percent_bps":10001}}"#,
        #"{"currency":"USD","referrer_reward":{"fixed":1},"attribution_window_days":366}"#,
        #"{"currency":"USD","referrer_reward":{"fixed":1},"trigger":"weekly"}"#,
        #"{"currency":"USD","referrer_reward":{"fixed":1},"tiers":[{"min_referrals":0,"fixed":5}]}"#,
        #""every order""#,
    ]

    private mutating func wrongType(_ program: Int, derived: Bool) -> LineKind {
        if derived {
            envelope(random.chance(0.5) ? "reward" : "reversal", program: program)
            out.id("participant", "u", 1)
            out.integer("amount", 500)
        } else {
            envelope(random.pick(["purchase", "Signup", "refunds", ""] as [StaticString]), program: program)
            out.id("participant", "u", 1)
        }
        out.end()
        return .invalid(derived ? .derivedType : .unknownType)
    }

    private mutating func futureTime(_ program: Int) -> LineKind {
        let saved = factTime
        // 2099-01-01, 2030-01-01, 9999-12-30 (whose latest offset still writes a four-digit year).
        factTime = random.pick([4_070_908_800_000, 1_893_456_000_000, 253_402_128_000_000] as [Int64])
        openInvite(program)
        out.end()
        factTime = saved
        return .invalid(.futureTime)
    }

    private mutating func tooLarge(_ program: Int) -> LineKind {
        envelope("payout_failed", program: program)
        out.id("payout", "po", 1)
        out.string("reason", Array(repeating: UInt8(ascii: "x"), count: 70_000))
        out.end()
        return .invalid(.tooLarge)
    }

    /// A re-post of an accepted fact: as it was, with its time at another offset, or with
    /// whitespace — all the same content.
    mutating func emitDuplicate() -> LineKind {
        let fact = random.pick(recent)
        let roll = random.below(100)
        if roll < 60 {
            out.raw(fact.bytes)
        } else if roll < 85 {
            out.raw(fact.bytes[..<fact.timeRange.lowerBound])
            out.timestamp(fact.millis, style: .offset(random.pick(Self.offsets)))
            out.raw(fact.bytes[fact.timeRange.upperBound...])
            note(.duplicateRewritten)
        } else {
            out.raw("{ ")
            out.raw(fact.bytes.dropFirst())
            note(.duplicateRewritten)
        }
        return .duplicate
    }
}
