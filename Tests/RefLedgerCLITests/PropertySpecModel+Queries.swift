import RefLedgerCore

/// A metric's exact value: an integer, a decimal (scaled by 10^6), or null.
enum MetricValue: Equatable, CustomStringConvertible {
    case integer(Int64)
    case decimal(Int128)
    case null

    /// The value of a query body's member: integers, number literals, null.
    init?(_ value: JSONValue?) {
        switch value {
        case .integer(let integer)?: self = .integer(integer)
        case .null?: self = .null
        case .number(let literal)?:
            let negative = literal.hasPrefix("-")
            let parts = literal.drop { $0 == "-" }.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, let whole = Int128(parts[0]) else { return nil }
            let fraction = parts.count == 2 ? String(parts[1]) : ""
            guard fraction.count <= 6, let digits = Int128(fraction + String(repeating: "0", count: 6 - fraction.count))
            else { return nil }
            self = .decimal((whole * 1_000_000 + digits) * (negative ? -1 : 1))
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .integer(let value): "\(value)"
        case .decimal(let scaled): "\(scaled)e-6"
        case .null: "null"
        }
    }
}

extension SpecModel.Program {
    /// SPEC §5 for one participant, over the events up to `asOf`.
    func balance(_ participant: String, at: Timestamp, asOf: UInt64 = .max) -> Balance {
        let member = members[participant]!
        var balance = Balance(currency: rules.currency)
        for id in member.rewards where rewards[id]!.seq <= asOf {
            let reward = rewards[id]!
            let reversed = reward.reversed(asOf: asOf)
            if reward.availableAt > at {
                balance.pending += Money(reward.amount - reversed)
            } else {
                balance.earned += Money(reward.amount - reversed)
            }
            balance.reversed += Money(reversed)
        }
        balance.reserved = Money(member.reserved)
        balance.paid = Money(member.paid)
        return balance
    }

    /// SPEC §6 leaderboard: rows whose value is > 0, best first, ties by participant id.
    func leaderboard(by order: LeaderboardOrder, limit: Int, asOf: UInt64 = .max) -> JSONObject {
        let rows = members.map { id, member -> (id: String, code: String, referees: Int64, rewards: Int64) in
            let net = member.rewards.map { rewards[$0]! }.filter { $0.seq <= asOf }
                .reduce(Int64(0)) { $0 + $1.amount - $1.reversed(asOf: asOf) }
            return (id, member.code, member.attributedSignups, net)
        }
        let ranked = rows.filter { (order == .referees ? $0.referees : $0.rewards) > 0 }.sorted { a, b in
            let (left, right) = order == .referees ? (a.referees, b.referees) : (a.rewards, b.rewards)
            return left != right
                ? left > right
                : a.id.unicodeScalars.map(\.value).lexicographicallyPrecedes(b.id.unicodeScalars.map(\.value))
        }
        let body: [JSONValue] = ranked.prefix(limit).map {
            .object(
                JSONObject([
                    ("participant", .string($0.id)), ("code", .string($0.code)), ("referees", .integer($0.referees)),
                    ("rewards", .integer($0.rewards)),
                ])
            )
        }
        return JSONObject([("by", .string(order.rawValue)), ("rows", .array(body))])
    }

    /// SPEC §8 for the cohort of participants who signed up in [from, to), over the events up
    /// to `asOf`.
    func metrics(from: Timestamp?, to: Timestamp?, asOf: UInt64 = .max) -> [(String, MetricValue)] {
        func inCohort(_ member: SpecModel.Member) -> Bool {
            (from.map { member.signupTime >= $0 } ?? true) && (to.map { member.signupTime < $0 } ?? true)
        }
        let cohort = members.filter { inCohort($0.value) }
        let referees = members.values.filter { member in member.referrer.map { cohort[$0] != nil } ?? false }
        let converted = referees.filter(\.hasConverted)
        let participants = Int64(cohort.count)
        let invites = cohort.values.reduce(Int64(0)) { $0 + $1.invites }
        let signups = Int64(referees.count)
        let clicks = cohort.values.reduce(Int64(0)) { $0 + $1.clicks }
        let revenue = referees.reduce(Int64(0)) { $0 + $1.revenue }
        let cost = referees.reduce(Int64(0)) { sum, member in
            sum + member.costEvents.filter { $0.seq <= asOf }.reduce(0) { $0 + $1.amount }
        }
        let orders = referees.reduce(Int64(0)) { $0 + $1.orders }
        let orderAmount = referees.reduce(Int64(0)) { $0 + $1.orderAmount }
        let activeReferrers = Set(referees.compactMap(\.referrer)).count
        let delays = converted.map {
            Swift.max(0, $0.firstConversionTime!.millisecondsSinceEpoch - $0.signupTime.millisecondsSinceEpoch)
        }
        .sorted()
        func percentile(_ numerator: Int, _ denominator: Int) -> MetricValue {
            guard !delays.isEmpty else { return .null }
            let rank = (numerator * delays.count + denominator - 1) / denominator  // ⌈p × n⌉
            return .decimal(Int128(delays[rank - 1]) * 1000)  // ms → seconds × 10^6
        }
        return [
            ("participants", .integer(participants)),
            ("referred", .integer(Int64(cohort.values.filter { $0.referrer != nil }.count))),
            ("invites", .integer(invites)),
            ("clicks", .integer(clicks)),
            ("referred_signups", .integer(signups)),
            ("converted_referees", .integer(Int64(converted.count))),
            ("invites_per_participant", Self.ratio(invites, participants)),
            ("invite_conversion", Self.ratio(signups, invites)),
            ("k_factor", Self.ratio(signups, participants)),
            ("click_to_signup", Self.ratio(signups, clicks)),
            ("signup_to_conversion", Self.ratio(Int64(converted.count), signups)),
            ("active_referrers", .integer(Int64(activeReferrers))),
            ("referred_revenue", .integer(revenue)),
            ("reward_cost", .integer(cost)),
            ("roi", Self.ratio(revenue - cost, cost)),
            ("referred_orders", .integer(orders)),
            ("avg_order_value", Self.ratio(orderAmount, orders)),
            ("revenue_per_converted_referee", Self.ratio(revenue, Int64(converted.count))),
            ("cost_per_converted_referee", Self.ratio(cost, Int64(converted.count))),
            ("time_to_convert_p50", percentile(1, 2)),
            ("time_to_convert_p90", percentile(9, 10)),
            ("self_referrals", .integer(cohort.values.reduce(Int64(0)) { $0 + $1.selfReferrals })),
        ]
    }

    /// The exact quotient rounded half away from zero to 6 decimals; null over 0.
    private static func ratio(_ numerator: Int64, _ denominator: Int64) -> MetricValue {
        guard denominator != 0 else { return .null }
        let scaled = Int128(numerator) * 1_000_000
        let divisor = Int128(denominator)
        var quotient = scaled / divisor  // truncates toward zero
        let remainder = scaled - quotient * divisor
        if 2 * remainder.magnitude >= divisor.magnitude { quotient += (scaled < 0) != (divisor < 0) ? -1 : 1 }
        return .decimal(quotient)
    }
}
