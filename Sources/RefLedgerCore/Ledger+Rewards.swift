/// Who a reward goes to and why (SPEC §2 derived `reward.role`).
enum RewardRole: Sendable, Hashable {
    case referrer
    case referee
    case level(Int)  // 2, 3, …

    var name: String {
        switch self {
        case .referrer: "referrer"
        case .referee: "referee"
        case .level(let level): "level\(level)"
        }
    }

    /// Referrer and level rewards count against the cap; referee rewards do not.
    var isCapped: Bool { if case .referee = self { false } else { true } }
}

extension ProgramState {
    /// `amount × bps / 10000` rounded half up (SPEC §4.1).
    static func percent(_ amount: Int64, bps: Int64) -> Int64 {
        Int64((Int128(amount) * Int128(bps) + 5000) / 10_000)
    }

    /// The amount a reward shape gives for a conversion of `amount` (nil: a signup, where
    /// percent rewards give nothing).
    static func value(of shape: RewardShape, amount: Int64?) -> Int64 {
        switch shape {
        case .fixed(let fixed): fixed
        case .percentBps(let bps): amount.map { percent($0, bps: bps) } ?? 0
        }
    }

    /// The referrer's reward shape for its `qualifying`-th referral: the highest tier reached,
    /// else `referrer_reward`.
    func referrerShape(qualifying: Int64) -> RewardShape {
        rules.tiers.last(where: { $0.minReferrals <= qualifying })?.reward ?? rules.referrerReward
    }

    /// Rewards of an attributed signup under trigger `signup`.
    mutating func deriveSignupRewards(referee: Member, referrer: Member, context: inout Derivation) {
        let qualifying = participants[at: referrer].stats.referredSignups
        let referrerAmount = Self.value(of: referrerShape(qualifying: qualifying), amount: nil)
        grant(referrerAmount, to: referrer, role: .referrer, order: nil, costTo: referrer, context: &context)
        if let shape = rules.refereeReward {
            grant(
                Self.value(of: shape, amount: nil),
                to: referee,
                role: .referee,
                order: nil,
                costTo: referrer,
                context: &context
            )
        }
    }

    /// A referee's purchase: checks, then rewards per the trigger.
    mutating func convert(
        participant id: String,
        order orderID: String,
        amount: Int64,
        currency: String,
        context: inout Derivation
    ) throws(LedgerError) {
        // The participants involved are found once, by position: looking them up by id for
        // every field read and written was most of a conversion's cost.
        guard let member = participants.position(of: id) else { throw Ledger.unknownParticipant(id) }
        guard orders.position(of: orderID) == nil else {
            throw LedgerError(.duplicateOrder, "order \(orderID) already exists in \(name)", field: "order")
        }
        guard currency == rules.currency else {
            throw LedgerError(
                .currencyMismatch,
                "program \(name) is in \(rules.currency), not \(currency)",
                field: "currency"
            )
        }
        let isFirst = participants[at: member].firstConversionTime == nil
        // Checked new above, and nothing adds an order in between.
        guard let orderPosition = orders.addIfAbsent(Order(participant: member, amount: amount), forKey: orderID) else {
            preconditionFailure("order \(orderID) was added during its own conversion")
        }
        let order = (id: orderID, position: orderPosition)
        if isFirst { participants[at: member].firstConversionTime = context.time }
        guard let referrer = participants[at: member].referrer else { return }
        if isFirst {
            let signupTime = participants[at: member].signupTime
            timeToConvertMillis.insert(max(0, context.time.millisecondsSinceEpoch - signupTime.millisecondsSinceEpoch))
        }
        adjustStats(at: referrer) { stats in
            if isFirst { stats.convertedReferees += 1 }
            stats.referredOrders += 1
            stats.referredOrderAmount += Money(amount)
            stats.referredRevenue += Money(amount)
        }
        switch rules.trigger {
        case .signup: return
        case .firstConversion where !isFirst: return
        case .firstConversion, .everyConversion: break
        }
        let qualifying = participants[at: referrer].stats.convertedReferees
        let referrerAmount = Self.value(of: referrerShape(qualifying: qualifying), amount: amount)
        grant(referrerAmount, to: referrer, role: .referrer, order: order, costTo: referrer, context: &context)
        if let shape = rules.refereeReward {
            grant(
                Self.value(of: shape, amount: amount),
                to: member,
                role: .referee,
                order: order,
                costTo: referrer,
                context: &context
            )
        }
        var ancestor = participants[at: referrer].referrer
        for (index, bps) in rules.levelsBps.enumerated() {
            guard let beneficiary = ancestor else { break }
            grant(
                Self.percent(amount, bps: bps),
                to: beneficiary,
                role: .level(index + 2),
                order: order,
                costTo: referrer,
                context: &context
            )
            ancestor = participants[at: beneficiary].referrer
        }
    }

    /// Derives a reward of `amount` (cut by the cap where it applies) unless it comes to 0.
    /// `order` is the conversion's order (its id, and its place in `orders` to link the reward
    /// to), nil for a signup reward; `costTo` is the cohort member whose referee caused it
    /// (metrics' reward_cost).
    mutating func grant(
        _ amount: Int64,
        to beneficiary: Member,
        role: RewardRole,
        order: (id: String, position: Int)?,
        costTo member: Member,
        context: inout Derivation
    ) {
        var amount = amount
        if role.isCapped, let cap = rules.referrerCap {
            // What is left under the cap (0 when reached) is below `amount` only when it fits.
            amount = Int64(min(Money(amount), max(0, Money(cap) - participants[at: beneficiary].capAccrued)))
        }
        guard amount > 0 else { return }
        let availableAt = context.time.adding(milliseconds: rules.holdDays * 86_400_000)
        let id = context.nextDerived.id
        let beneficiaryID = participants.ids[beneficiary]
        var members: [(String, JSONValue)] = [
            ("participant", .string(beneficiaryID)), ("role", .string(role.name)), ("amount", .integer(amount)),
            ("currency", .string(rules.currency)), ("available_at", .string(availableAt.description)),
        ]
        if let order { members.append(("order", .string(order.id))) }
        context.derive(.reward, members)
        if role.isCapped { participants[at: beneficiary].capAccrued += Money(amount) }
        participants[at: beneficiary].netRewards += Money(amount)
        participants[at: beneficiary].rewards.append(RewardEntry(id: id, amount: amount, availableAt: availableAt))
        if let order {
            orders[at: order.position].rewards.append((beneficiary, participants[at: beneficiary].rewards.count - 1))
        }
        adjustStats(at: member) { $0.rewardCost += Money(amount) }
    }
}
