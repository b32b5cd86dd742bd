extension Ledger {
    /// The metrics of SPEC §8 for the cohort of participants who signed up in [from, to)
    /// (either end open when nil), at this ledger's head. The body lacks `as_of`, which the
    /// caller adds after `to`.
    public func metrics(program name: String, from: Timestamp?, to: Timestamp?) throws(LedgerError) -> JSONObject {
        guard let program = programs[name] else { throw LedgerError(.notFound, "no program \(name)", field: "program") }
        let stats: MemberStats
        let participants: Int64
        let activeReferrers: Int64
        let timeToConvert: OrderStatistics
        if from == nil, to == nil {
            stats = program.totals
            participants = Int64(program.participants.count)
            activeReferrers = program.activeReferrers
            timeToConvert = program.timeToConvertMillis
        } else {
            func inCohort(_ member: Participant) -> Bool {
                (from.map { member.signupTime >= $0 } ?? true) && (to.map { member.signupTime < $0 } ?? true)
            }
            var sum = MemberStats()
            var count: Int64 = 0
            var active: Int64 = 0
            var values = OrderStatistics()
            for member in program.participants.values {
                if inCohort(member) {
                    count += 1
                    sum.add(member.stats)
                    if member.stats.referredSignups > 0 { active += 1 }
                }
                if let referrer = member.referrer, let converted = member.firstConversionTime,
                    inCohort(program.participants[at: referrer])
                {
                    values.insert(max(0, converted.millisecondsSinceEpoch - member.signupTime.millisecondsSinceEpoch))
                }
            }
            stats = sum
            participants = count
            activeReferrers = active
            timeToConvert = values
        }
        func seconds(_ millis: Int64?) -> JSONValue {
            millis.map { .number(ExactDecimal.format(Int128($0), places: 3)) } ?? .null
        }
        return JSONObject([
            ("program", .string(name)),
            ("from", from.map { .string($0.description) } ?? .null),
            ("to", to.map { .string($0.description) } ?? .null),
            ("participants", .integer(participants)),
            ("referred", .integer(stats.referred)),
            ("invites", .integer(stats.invites)),
            ("clicks", .integer(stats.clicks)),
            ("referred_signups", .integer(stats.referredSignups)),
            ("converted_referees", .integer(stats.convertedReferees)),
            ("invites_per_participant", ExactDecimal.ratio(Money(stats.invites), Money(participants))),
            ("invite_conversion", ExactDecimal.ratio(Money(stats.referredSignups), Money(stats.invites))),
            ("k_factor", ExactDecimal.ratio(Money(stats.referredSignups), Money(participants))),
            ("click_to_signup", ExactDecimal.ratio(Money(stats.referredSignups), Money(stats.clicks))),
            ("signup_to_conversion", ExactDecimal.ratio(Money(stats.convertedReferees), Money(stats.referredSignups))),
            ("active_referrers", .integer(activeReferrers)),
            ("referred_revenue", .money(stats.referredRevenue)),
            ("reward_cost", .money(stats.rewardCost)),
            ("roi", ExactDecimal.ratio(stats.referredRevenue - stats.rewardCost, stats.rewardCost)),
            ("referred_orders", .integer(stats.referredOrders)),
            ("avg_order_value", ExactDecimal.ratio(stats.referredOrderAmount, Money(stats.referredOrders))),
            (
                "revenue_per_converted_referee",
                ExactDecimal.ratio(stats.referredRevenue, Money(stats.convertedReferees))
            ),
            ("cost_per_converted_referee", ExactDecimal.ratio(stats.rewardCost, Money(stats.convertedReferees))),
            ("time_to_convert_p50", seconds(timeToConvert.percentile(numerator: 1, denominator: 2))),
            ("time_to_convert_p90", seconds(timeToConvert.percentile(numerator: 9, denominator: 10))),
            ("self_referrals", .integer(stats.selfReferrals)),
        ])
    }
}

extension MemberStats {
    /// Adds another member's numbers to these.
    mutating func add(_ other: MemberStats) {
        referred += other.referred
        invites += other.invites
        clicks += other.clicks
        referredSignups += other.referredSignups
        convertedReferees += other.convertedReferees
        referredRevenue += other.referredRevenue
        rewardCost += other.rewardCost
        referredOrders += other.referredOrders
        referredOrderAmount += other.referredOrderAmount
        selfReferrals += other.selfReferrals
    }
}
