import RefLedgerCore

/// Facts that decode but break a rule of idempotency (SPEC §2 stage 2) or of state (stage 3).
/// Where the stream has nothing yet to break a rule against (no order to over-refund, say),
/// a neighbouring error is made instead and that is the line's kind.
extension TrafficGenerator {
    static let currencies: [StaticString] = ["USD", "EUR", "GBP", "JPY", "CHF"]

    mutating func stateError(_ code: ErrorCode, program: Int) -> LineKind {
        let model = programs[program]
        switch code {
        case .unknownProgram:
            return unknownProgram()
        case .unknownParticipant:
            let variant = random.below(3)
            let type: StaticString = variant == 0 ? "invite" : variant == 1 ? "conversion" : "payout"
            envelope(type, program: program)
            out.id("participant", "nobody", newNumber())
            if variant == 0 {
                out.string("channel", "social")
            } else {
                out.id(variant == 1 ? "order" : "payout", variant == 1 ? "o" : "po", newNumber())
                out.integer("amount", 100)
                out.string("currency", model.template.currency)
            }
        case .unknownCode:
            envelope("click", program: program)
            out.id("code", "zz-", newNumber())
            out.id("visitor", "v", newNumber())
        case .unknownOrder:
            refundFact(program, order: newNumber(), amount: 100)
        case .unknownPayout:
            envelope(random.chance(0.5) ? "payout_settled" : "payout_failed", program: program)
            out.id("payout", "nopay", newNumber())
        case .overRefund:
            guard !model.orders.isEmpty else { return stateError(.unknownOrder, program: program) }
            let order = random.pick(model.orders)
            refundFact(
                program,
                order: Int64(order.number),
                amount: order.amount - order.refunded + random.between(1, 1000)
            )
        case .insufficientFunds:
            guard !model.members.isEmpty else { return stateError(.unknownParticipant, program: program) }
            let member =
                model.earners.isEmpty || random.chance(0.3)
                ? random.below(model.members.count) : Int(random.pick(model.earners))
            let earned = model.members[member].estimatedEarned
            payoutFact(
                program,
                member: member,
                payout: newNumber(),
                amount: random.chance(0.5) ? 1_000_000_000_000 : earned * 3 + 100_000
            )
        case .currencyMismatch:
            return currencyMismatch(program)
        case .participantExists:
            guard !model.members.isEmpty else { return stateError(.unknownParticipant, program: program) }
            envelope("signup", program: program)
            writeParticipant(program, random.below(model.members.count))
        case .codeTaken:
            guard !model.members.isEmpty else { return stateError(.unknownParticipant, program: program) }
            let owner =
                model.customCodeMembers.isEmpty || random.chance(0.3)
                ? random.below(model.members.count) : Int(random.pick(model.customCodeMembers))
            envelope("signup", program: program)
            out.id("participant", "u", newNumber())
            writeCode("code", program: program, member: owner, otherCase: random.chance(0.5))
        case .duplicateOrder:
            guard !model.orders.isEmpty else { return stateError(.unknownOrder, program: program) }
            let order = random.pick(model.orders)
            envelope("conversion", program: program)
            writeParticipant(program, Int(order.member))
            out.id("order", "o", Int64(order.number))
            out.integer("amount", order.amount)
            out.string("currency", model.template.currency)
        case .duplicatePayout:
            guard !model.payouts.isEmpty else { return stateError(.unknownPayout, program: program) }
            let payout = random.pick(model.payouts)
            payoutFact(program, member: Int(payout.member), payout: Int64(payout.number), amount: 1)
        case .payoutFinished:
            guard !model.finishedPayouts.isEmpty else { return stateError(.unknownPayout, program: program) }
            let payout = model.payouts[Int(random.pick(model.finishedPayouts))]
            envelope(random.chance(0.5) ? "payout_settled" : "payout_failed", program: program)
            out.id("payout", "po", Int64(payout.number))
        default:  // id_conflict
            return idConflict(program)
        }
        out.end()
        return .invalid(code)
    }

    /// A fact for a program that has no `program` fact (yet).
    mutating func unknownProgram() -> LineKind {
        let late = programs.first { !$0.live }
        out.begin()
        out.id("id", "e", Int64(linesWritten))
        out.string("type", "signup")
        if let late {
            out.string("program", late.name)
        } else {
            out.id("program", "ghost-", newNumber())
        }
        _ = writeTime()
        out.id("participant", "u", newNumber())
        out.end()
        return .invalid(.unknownProgram)
    }

    private mutating func refundFact(_ program: Int, order: Int64, amount: Int64) {
        envelope("refund", program: program)
        out.id("order", "o", order)
        out.integer("amount", amount)
    }

    private mutating func payoutFact(
        _ program: Int,
        member: Int,
        payout: Int64,
        amount: Int64,
        currency: StaticString? = nil
    ) {
        envelope("payout", program: program)
        writeParticipant(program, member)
        out.id("payout", "po", payout)
        out.integer("amount", amount)
        out.string("currency", currency ?? programs[program].template.currency)
    }

    /// A conversion or payout in another currency, or rules that would change the currency.
    private mutating func currencyMismatch(_ program: Int) -> LineKind {
        let model = programs[program]
        var other = random.pick(Self.currencies)
        while other.description == model.template.currency.description { other = random.pick(Self.currencies) }
        let variant = model.members.isEmpty ? 2 : random.below(3)
        switch variant {
        case 0:
            envelope("conversion", program: program)
            writeParticipant(program, random.below(model.members.count))
            out.id("order", "o", newNumber())
            out.integer("amount", orderAmount())
            out.string("currency", other)
        case 1:
            payoutFact(
                program,
                member: random.below(model.members.count),
                payout: newNumber(),
                amount: 1,
                currency: other
            )
        default:
            envelope("program", program: program)
            out.key("rules")
            out.raw(#"{"currency":""#)
            out.raw(other)
            out.raw(#"","referrer_reward":{"fixed":100}}"#)
        }
        out.end()
        return .invalid(.currencyMismatch)
    }

    /// An accepted fact's id with other content: another fact altogether, or (SPEC §2) the
    /// same signup re-posted with the code the ledger assigned it.
    private mutating func idConflict(_ program: Int) -> LineKind {
        guard !recent.isEmpty else { return stateError(.unknownParticipant, program: program) }
        let fact = random.pick(recent)
        if fact.assignedCode != 0, random.chance(0.5) {
            out.raw(fact.bytes.dropLast())
            out.raw(#","code":""#)
            out.packed(fact.assignedCode)
            out.raw("\"}")
            note(.idConflictAddsAssignedCode)
        } else {
            envelope("invite", program: Int(fact.program), id: fact.id)
            out.id("participant", "u", 1)
            out.string("channel", "other")
            out.id("invitee", "conflict", newNumber())
            out.end()
        }
        return .invalid(.idConflict)
    }
}
