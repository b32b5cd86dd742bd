// The parts of a program's state in a ledger snapshot (see `Ledger.snapshotBytes()`).

extension Participant {
    /// Writes what follows the id and the reward count (which the ids list holds).
    func encode(into encoder: inout SnapshotEncoder, referrer: Int?) {
        encoder.string(code)
        encoder.reference(referrer)
        encoder.time(signupTime)
        encoder.optionalString(visitor)
        encoder.optionalTime(firstConversionTime)
        encoder.money(capAccrued)
        encoder.money(netRewards)
        for reward in rewards {
            encoder.string(reward.id)
            encoder.signed(reward.amount)
            encoder.signed(reward.reversed)
            encoder.time(reward.availableAt)
        }
        encoder.money(reserved)
        encoder.money(paid)
        stats.encode(into: &encoder)
    }

    /// Reads what ``encode(into:referrer:)`` wrote; the referrer is the position of one of the
    /// program's `members` participants.
    init(from decoder: inout SnapshotDecoder, rewardCount: Int, members: Int) throws(Ledger.SnapshotError) {
        let code = try decoder.string()
        let referrer = try decoder.reference(into: members)
        self.init(
            code: code,
            referrer: referrer,
            signupTime: try decoder.time(),
            visitor: try decoder.optionalString()
        )
        firstConversionTime = try decoder.optionalTime()
        capAccrued = try decoder.nonNegativeMoney()
        netRewards = try decoder.money()
        rewards.reserveCapacity(rewardCount)
        for _ in 0..<rewardCount {
            let rewardID = try decoder.string()
            let amount = try decoder.amount()
            let reversed = try decoder.amount()
            rewards.append(
                RewardEntry(id: rewardID, amount: amount, reversed: reversed, availableAt: try decoder.time())
            )
        }
        reserved = try decoder.nonNegativeMoney()
        paid = try decoder.nonNegativeMoney()
        stats = try MemberStats(from: &decoder)
    }
}

extension MemberStats {
    func encode(into encoder: inout SnapshotEncoder) {
        encoder.signed(referred)
        encoder.signed(invites)
        encoder.signed(clicks)
        encoder.signed(referredSignups)
        encoder.signed(convertedReferees)
        encoder.money(referredRevenue)
        encoder.money(rewardCost)
        encoder.signed(referredOrders)
        encoder.money(referredOrderAmount)
        encoder.signed(selfReferrals)
    }

    init(from decoder: inout SnapshotDecoder) throws(Ledger.SnapshotError) {
        self.init()
        referred = try decoder.signed()
        invites = try decoder.signed()
        clicks = try decoder.signed()
        referredSignups = try decoder.signed()
        convertedReferees = try decoder.signed()
        referredRevenue = try decoder.money()
        rewardCost = try decoder.money()
        referredOrders = try decoder.signed()
        referredOrderAmount = try decoder.money()
        selfReferrals = try decoder.signed()
    }
}

extension Payout.State: SnapshotTagged {
    static let snapshotCases: [Self] = [.open, .settled, .failed]
}

extension Rules {
    func encode(into encoder: inout SnapshotEncoder) {
        encoder.string(currency)
        encoder.signed(attributionWindowDays)
        encoder.tag(trigger)
        referrerReward.encode(into: &encoder)
        if let refereeReward { refereeReward.encode(into: &encoder) } else { encoder.byte(0) }
        encoder.count(tiers.count)
        for tier in tiers {
            encoder.signed(tier.minReferrals)
            tier.reward.encode(into: &encoder)
        }
        encoder.count(levelsBps.count)
        for bps in levelsBps { encoder.signed(bps) }
        encoder.signed(holdDays)
        if let referrerCap {
            encoder.byte(1)
            encoder.signed(referrerCap)
        } else {
            encoder.byte(0)
        }
    }

    init(from decoder: inout SnapshotDecoder) throws(Ledger.SnapshotError) {
        let currency = try decoder.string()
        let window = try decoder.integer(in: 0...365)
        let trigger = try decoder.tag(Trigger.self)
        guard let referrerReward = try RewardShape.decode(from: &decoder) else {
            throw decoder.damage("rules without a referrer reward")
        }
        self.init(currency: currency, referrerReward: referrerReward)
        attributionWindowDays = window
        self.trigger = trigger
        refereeReward = try RewardShape.decode(from: &decoder)
        let tierCount = try decoder.count(minimumBytes: 3)
        for _ in 0..<tierCount {
            let minReferrals = try decoder.integer(in: 1...JSONValue.maxInteger)
            guard let reward = try RewardShape.decode(from: &decoder) else {
                throw decoder.damage("tier without a reward")
            }
            tiers.append(Tier(minReferrals: minReferrals, reward: reward))
        }
        let levelCount = try decoder.count()
        for _ in 0..<levelCount { levelsBps.append(try decoder.integer(in: 0...10_000)) }
        holdDays = try decoder.integer(in: 0...3650)
        switch try decoder.byte() {
        case 0: referrerCap = nil
        case 1: referrerCap = try decoder.amount()
        case let tag: throw decoder.damage("referrer cap with tag \(tag)")
        }
    }
}

extension RewardShape {
    func encode(into encoder: inout SnapshotEncoder) {
        switch self {
        case .fixed(let amount):
            encoder.byte(1)
            encoder.signed(amount)
        case .percentBps(let bps):
            encoder.byte(2)
            encoder.signed(bps)
        }
    }

    /// A shape, or `nil` for the tag of none.
    static func decode(from decoder: inout SnapshotDecoder) throws(Ledger.SnapshotError) -> RewardShape? {
        switch try decoder.byte() {
        case 0: return nil
        case 1: return .fixed(try decoder.amount())
        case 2: return .percentBps(try decoder.integer(in: 0...10_000))
        case let tag: throw decoder.damage("reward shape with tag \(tag)")
        }
    }
}

extension Trigger: SnapshotTagged {
    static let snapshotCases: [Self] = [.signup, .firstConversion, .everyConversion]
}
