import RefLedgerCore

/// The simulation: new participants arrive, invite, are clicked, sign up, buy, refund and
/// are paid; each step schedules the next ones at later business times.
extension TrafficGenerator {
    /// The next valid fact: something scheduled that is due, else a new participant.
    mutating func emitValid() -> LineKind {
        let backdate = random.chance(config.backdateRate)
        let earliest = config.start.millisecondsSinceEpoch
        while let item = schedule.take(now: clock) {
            let movable = item.kind != .payout && item.kind != .payoutFinish
            factTime =
                backdate && movable ? Swift.max(earliest, clock - random.between(60_000, 3 * Self.dayMillis)) : clock
            if let kind = emit(item) { return kind }
        }
        factTime = backdate ? Swift.max(earliest, clock - random.between(60_000, 3 * Self.dayMillis)) : clock
        return arrival()
    }

    private mutating func emit(_ item: Pending) -> LineKind? {
        let program = Int(item.program)
        switch item.kind {
        case .invite: return invite(program, member: Int(item.subject))
        case .click: return click(program, referrer: Int(item.subject), channel: Int(item.flags))
        case .referredSignup: return referredSignup(program, item)
        case .conversion: return conversion(program, member: Int(item.subject))
        case .refund: return refund(program, order: Int(item.subject), partial: item.flags == 1)
        case .payout: return payout(program, member: Int(item.subject), estimate: item.extra)
        case .payoutFinish: return finishPayout(program, payout: Int(item.subject), settle: item.flags == 1)
        }
    }

    /// A participant who came by themselves (no referral), sometimes naming an unknown code.
    private mutating func arrival() -> LineKind {
        guard let program = pickLiveProgram() else { return emitInvalid() }
        let visitor = random.chance(0.5) ? Int32(truncatingIfNeeded: newNumber()) : -1
        let member = newMember(program: program, visitor: visitor, referrer: -1)
        let start = out.count
        let time = envelope("signup", program: program)
        writeParticipant(program, member)
        if programs[program].members[member].codeStyle != 0 {
            writeCode("code", program: program, member: member, otherCase: false)
        }
        if visitor >= 0 {
            out.id("visitor", "v", Int64(visitor))
            note(.signupWithVisitor)
        }
        if random.chance(0.015) {
            out.id("referrer_code", "nx-", newNumber())
            note(.unknownReferrerCode)
        }
        out.end()
        remember(lineStart: start, time: time, program: program, signup: member)
        onboard(program, member: member, referee: false)
        return .fact(.signup)
    }

    /// What a new participant will do: invite (29%, a power law of how many), buy.
    private mutating func onboard(_ program: Int, member: Int, referee: Bool) {
        if random.chance(0.29) {
            let invites = PowerLaw.invites.sample(&random)
            note(.inviter)
            note(.invitesPlanned, invites)
            for _ in 0..<invites {
                schedule.add(
                    Pending(kind: .invite, program: UInt8(program), subject: Int32(member)),
                    due: clock + skewedDelay(45 * Self.dayMillis)
                )
            }
        }
        if random.chance(referee ? 0.30 : 0.20) {
            schedule.add(
                Pending(kind: .conversion, program: UInt8(program), subject: Int32(member)),
                due: clock + random.between(Self.hourMillis, 20 * Self.dayMillis)
            )
        }
    }

    private mutating func invite(_ program: Int, member: Int) -> LineKind {
        let channel = random.below(100) < 40 ? 0 : random.below(Self.channels.count)
        let start = out.count
        let time = envelope("invite", program: program)
        writeParticipant(program, member)
        out.string("channel", Self.channels[channel])
        if channel <= 1, random.chance(0.8) { out.id("invitee", "h", newNumber() &* 2_654_435_761 % 1_000_000_007) }
        out.end()
        remember(lineStart: start, time: time, program: program)
        if random.chance(0.4) {
            schedule.add(
                Pending(kind: .click, program: UInt8(program), flags: UInt8(channel), subject: Int32(member)),
                due: clock + random.between(60_000, 3 * Self.dayMillis)
            )
        }
        return .fact(.invite)
    }

    /// A visitor opens a referrer's link: a new visitor, one who clicked before (the last
    /// click wins), or now and then the referrer's own visitor (a self-referral to come).
    private mutating func click(_ program: Int, referrer: Int, channel: Int) -> LineKind {
        let own = programs[program].members[referrer].visitor
        var visitor: Int32
        var flags: UInt8 = 0
        if own >= 0, random.chance(0.02) {
            visitor = own
            flags = 2
        } else if !recentVisitors.isEmpty, random.chance(0.04) {
            visitor = random.pick(recentVisitors)
            note(.visitorReclick)
        } else {
            visitor = Int32(truncatingIfNeeded: newNumber())
        }
        if recentVisitors.count < 256 {
            recentVisitors.append(visitor)
        } else {
            recentVisitors[random.below(256)] = visitor
        }
        let start = out.count
        let time = envelope("click", program: program)
        writeCode("code", program: program, member: referrer, otherCase: random.chance(0.1))
        out.id("visitor", "v", Int64(visitor))
        if random.chance(0.7) { out.string("channel", Self.channels[channel]) }
        out.end()
        remember(lineStart: start, time: time, program: program)
        if random.chance(0.25) {
            let window = programs[program].rules.attributionWindowDays * Self.dayMillis
            var delay = skewedDelay(window)
            if random.chance(0.45) {
                flags |= 1  // by referrer_code
            } else if flags & 2 == 0, random.chance(0.1) {
                flags |= 4  // by visitor, after the window
                delay = window + random.between(Self.hourMillis, 10 * Self.dayMillis)
            }
            schedule.add(
                Pending(
                    kind: .referredSignup,
                    program: UInt8(program),
                    flags: flags,
                    subject: Int32(referrer),
                    extra: Int64(visitor)
                ),
                due: clock + delay
            )
        }
        return .fact(.click)
    }

    /// A visitor who clicked signs up: by the code, or by the visitor id alone.
    private mutating func referredSignup(_ program: Int, _ item: Pending) -> LineKind {
        let referrer = Int(item.subject)
        let byCode = item.flags & 1 != 0
        let selfReferral = item.flags & 2 != 0
        let outsideWindow = item.flags & 4 != 0
        let withVisitor = !byCode || selfReferral || random.chance(0.5)
        let visitor = withVisitor ? Int32(item.extra) : -1
        let attributed = !selfReferral && !outsideWindow
        let member = newMember(program: program, visitor: visitor, referrer: attributed ? Int32(referrer) : -1)
        let start = out.count
        let time = envelope("signup", program: program)
        writeParticipant(program, member)
        if programs[program].members[member].codeStyle != 0 {
            writeCode("code", program: program, member: member, otherCase: false)
        }
        if byCode { writeCode("referrer_code", program: program, member: referrer, otherCase: random.chance(0.1)) }
        if withVisitor { out.id("visitor", "v", Int64(visitor)) }
        out.end()
        remember(lineStart: start, time: time, program: program, signup: member)
        note(byCode ? .referredByCode : .referredByClick)
        if selfReferral { note(.selfReferral) }
        if outsideWindow { note(.clickOutsideWindow) }
        if attributed, programs[program].rules.trigger == .signup {
            programs[program].members[referrer].qualifying += 1
            rewardReferral(program, referrer: referrer, referee: member, amount: nil)
        }
        onboard(program, member: member, referee: attributed)
        return .fact(.signup)
    }

    private mutating func conversion(_ program: Int, member: Int) -> LineKind {
        let amount = orderAmount()
        let number = Int32(truncatingIfNeeded: newNumber())
        let start = out.count
        let time = envelope("conversion", program: program)
        writeParticipant(program, member)
        out.id("order", "o", Int64(number))
        out.integer("amount", amount)
        out.string("currency", programs[program].template.currency)
        out.end()
        remember(lineStart: start, time: time, program: program)
        let record = programs[program].members[member]
        if record.conversions > 0 { note(.repeatConversion) }
        programs[program].members[member].conversions += 1
        var rewards: (Int64, Int64) = (0, 0)
        let rules = programs[program].rules
        if record.referrer >= 0, rules.trigger != .signup, rules.trigger == .everyConversion || record.conversions == 0
        {
            if record.conversions == 0 { programs[program].members[Int(record.referrer)].qualifying += 1 }
            rewards = rewardReferral(program, referrer: Int(record.referrer), referee: member, amount: amount)
        }
        programs[program].orders.append(
            Order(
                number: number,
                member: Int32(member),
                amount: amount,
                referrerReward: rewards.0,
                refereeReward: rewards.1
            )
        )
        let order = Int32(programs[program].orders.count - 1)
        if random.chance(0.35) {
            schedule.add(
                Pending(kind: .conversion, program: UInt8(program), subject: Int32(member)),
                due: clock + random.between(Self.dayMillis, 30 * Self.dayMillis)
            )
        }
        if random.chance(0.05) {
            schedule.add(
                Pending(kind: .refund, program: UInt8(program), flags: random.chance(0.5) ? 1 : 0, subject: order),
                due: clock + random.between(Self.hourMillis, 20 * Self.dayMillis)
            )
        }
        return .fact(.conversion)
    }

    private mutating func refund(_ program: Int, order index: Int, partial: Bool) -> LineKind? {
        let order = programs[program].orders[index]
        let left = order.amount - order.refunded
        guard left > 0 else { return nil }
        let amount = partial && left >= 2 ? random.between(1, left - 1) : left
        let start = out.count
        let time = envelope("refund", program: program)
        out.id("order", "o", Int64(order.number))
        out.integer("amount", amount)
        out.end()
        remember(lineStart: start, time: time, program: program)
        programs[program].orders[index].refunded += amount
        note(amount < left ? .partialRefund : .fullRefund)
        // Take back a rounded-up share of the estimated rewards: estimates err low.
        let member = programs[program].members[Int(order.member)]
        if member.referrer >= 0 {
            programs[program].members[Int(member.referrer)].estimatedEarned -=
                (order.referrerReward * amount + order.amount - 1) / order.amount
        }
        programs[program].members[Int(order.member)].estimatedEarned -=
            (order.refereeReward * amount + order.amount - 1) / order.amount
        if amount < left, random.chance(0.3) {
            schedule.add(
                Pending(kind: .refund, program: UInt8(program), subject: Int32(index)),
                due: clock + random.between(Self.dayMillis, 10 * Self.dayMillis)
            )
        }
        return .fact(.refund)
    }
}
