import RefLedgerCore

/// Rewards as the generator estimates them, and payouts sized from those estimates.
extension TrafficGenerator {
    /// The smallest estimated balance that makes a participant ask for a payout.
    static let payoutThreshold: Int64 = 1000

    static let failureReasons: [StaticString] = [
        "card declined", #"IBAN \"DE00 0000\" is invalid"#, "Konto geschlossen – bitte neue Daten",
        #"caf\u00e9 account closed"#,
        "",
    ]

    /// Estimates the rewards of a referral (a conversion of `amount`, or a signup when nil)
    /// under the program's rules now, and credits them. Level rewards count against caps
    /// but are not credited, so balances err low.
    @discardableResult
    mutating func rewardReferral(_ program: Int, referrer: Int, referee: Int, amount: Int64?) -> (Int64, Int64) {
        let rules = programs[program].rules
        let qualifying = Int64(programs[program].members[referrer].qualifying)
        let shape = rules.tiers.last(where: { $0.minReferrals <= qualifying })?.reward ?? rules.referrerReward
        let availableAt = factTime + rules.holdDays * Self.dayMillis
        let toReferrer = capped(program, referrer, Self.value(shape, amount))
        programs[program].members[referrer].estimatedCapped += toReferrer
        credit(program, referrer, toReferrer, availableAt: availableAt)
        var toReferee: Int64 = 0
        if let refereeShape = rules.refereeReward {
            toReferee = Self.value(refereeShape, amount)
            credit(program, referee, toReferee, availableAt: availableAt)
        }
        if let amount, rules.trigger != .signup {
            var ancestor = programs[program].members[referrer].referrer
            for bps in rules.levelsBps {
                guard ancestor >= 0 else { break }
                let level = capped(program, Int(ancestor), (amount * bps + 5000) / 10_000)
                programs[program].members[Int(ancestor)].estimatedCapped += level
                ancestor = programs[program].members[Int(ancestor)].referrer
            }
        }
        return (toReferrer, toReferee)
    }

    private static func value(_ shape: RewardShape, _ amount: Int64?) -> Int64 {
        switch shape {
        case .fixed(let fixed): fixed
        case .percentBps(let bps): amount.map { ($0 * bps + 5000) / 10_000 } ?? 0
        }
    }

    private func capped(_ program: Int, _ member: Int, _ amount: Int64) -> Int64 {
        guard let cap = programs[program].rules.referrerCap else { return amount }
        return Swift.min(amount, Swift.max(0, cap - programs[program].members[member].estimatedCapped))
    }

    /// Adds an estimated reward; a participant whose balance passes the threshold asks for a
    /// payout once the reward is no longer held.
    private mutating func credit(_ program: Int, _ member: Int, _ amount: Int64, availableAt: Int64) {
        guard amount > 0 else { return }
        if programs[program].members[member].heldUntil == 0 { programs[program].earners.append(Int32(member)) }
        programs[program].members[member].estimatedEarned += amount
        programs[program].members[member].heldUntil = Swift.max(
            programs[program].members[member].heldUntil,
            availableAt
        )
        let record = programs[program].members[member]
        guard !record.payoutPending, record.estimatedEarned - record.committed >= Self.payoutThreshold else { return }
        programs[program].members[member].payoutPending = true
        schedule.add(
            Pending(kind: .payout, program: UInt8(program), subject: Int32(member), extra: record.estimatedEarned),
            due: Swift.max(clock, record.heldUntil) + random.between(Self.hourMillis, 7 * Self.dayMillis)
        )
    }

    /// A payout of half what the participant is estimated to have available; then settled
    /// (75%), failed (20%) or left open.
    mutating func payout(_ program: Int, member: Int, estimate: Int64) -> LineKind? {
        programs[program].members[member].payoutPending = false
        let record = programs[program].members[member]
        let available = Swift.min(estimate, record.estimatedEarned) - record.committed
        guard available >= 2 else { return nil }
        let amount = available / 2
        let number = Int32(truncatingIfNeeded: newNumber())
        envelope("payout", program: program)
        writeParticipant(program, member)
        out.id("payout", "po", Int64(number))
        out.integer("amount", amount)
        out.string("currency", programs[program].template.currency)
        out.end()
        programs[program].payouts.append(PayoutRecord(number: number, member: Int32(member), amount: amount))
        programs[program].members[member].committed += amount
        let roll = random.below(100)
        if roll < 95 {
            schedule.add(
                Pending(
                    kind: .payoutFinish,
                    program: UInt8(program),
                    flags: roll < 75 ? 1 : 2,
                    subject: Int32(programs[program].payouts.count - 1)
                ),
                due: clock + random.between(Self.hourMillis, 3 * Self.dayMillis)
            )
        } else {
            note(.payoutLeftOpen)
        }
        return .fact(.payout)
    }

    mutating func finishPayout(_ program: Int, payout index: Int, settle: Bool) -> LineKind? {
        let record = programs[program].payouts[index]
        guard record.state == 0 else { return nil }
        envelope(settle ? "payout_settled" : "payout_failed", program: program)
        out.id("payout", "po", Int64(record.number))
        if !settle, random.chance(0.7) {
            out.key("reason")
            out.raw("\"")
            out.raw(random.pick(Self.failureReasons))
            out.raw("\"")
        }
        out.end()
        programs[program].payouts[index].state = settle ? 1 : 2
        programs[program].finishedPayouts.append(Int32(index))
        if !settle { programs[program].members[Int(record.member)].committed -= record.amount }
        return .fact(settle ? .payoutSettled : .payoutFailed)
    }
}
