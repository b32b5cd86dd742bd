/// Validates a program's `rules` object (SPEC §4) into `Rules`, defaults filled in.
enum RulesDecoder {
    private static let fields: [FieldSpec] = [
        FieldSpec("currency", required: true), FieldSpec("attribution_window_days", required: false),
        FieldSpec("trigger", required: false), FieldSpec("referrer_reward", required: true),
        FieldSpec("referee_reward", required: false), FieldSpec("tiers", required: false),
        FieldSpec("levels_bps", required: false), FieldSpec("hold_days", required: false),
        FieldSpec("referrer_cap", required: false),
    ]
    private static let rewardFields: [FieldSpec] = [
        FieldSpec("fixed", required: false), FieldSpec("percent_bps", required: false),
    ]
    private static let tierFields: [FieldSpec] = [FieldSpec("min_referrals", required: true)] + rewardFields
    /// Every member name a `rules` object and its parts may hold.
    static let memberNames = (fields + tierFields).map(\.name)
    private static let maxLevels = 4
    private static let bps = Int64(0)...10_000

    static func decode(_ value: JSONValue, path: String) throws(LedgerError) -> Rules {
        guard case .object(let object) = value else {
            throw LedgerError(.badValue, "\(path) must be an object", field: path)
        }
        try FactDecoder.checkUnknownAndMissing(object, allowed: fields, path: path)
        let reader = FieldReader(object: object, path: path)
        let currency = try reader.string("currency", FieldRule.currency)!
        let window = try reader.integer("attribution_window_days", in: 0...365)
        var trigger: Trigger?
        if let value = object["trigger"] {
            guard case .string(let name) = value, let parsed = Trigger(rawValue: name) else {
                throw LedgerError(
                    .badValue,
                    "\(reader.field("trigger")) must be signup, first_conversion or every_conversion",
                    field: reader.field("trigger")
                )
            }
            trigger = parsed
        }
        let referrerReward = try reward(object["referrer_reward"]!, path: reader.field("referrer_reward"))
        var rules = Rules(currency: currency, referrerReward: referrerReward)
        if let window { rules.attributionWindowDays = window }
        if let trigger { rules.trigger = trigger }
        if let value = object["referee_reward"] {
            rules.refereeReward = try reward(value, path: reader.field("referee_reward"))
        }
        if let value = object["tiers"] { rules.tiers = try tiers(value, path: reader.field("tiers")) }
        if let value = object["levels_bps"] { rules.levelsBps = try levels(value, path: reader.field("levels_bps")) }
        if let days = try reader.integer("hold_days", in: 0...3650) { rules.holdDays = days }
        rules.referrerCap = try reader.integer("referrer_cap", in: 0...JSONValue.maxInteger)
        return rules
    }

    private static func reward(_ value: JSONValue, path: String) throws(LedgerError) -> RewardShape {
        guard case .object(let object) = value else {
            throw LedgerError(.badValue, "\(path) must be an object with fixed or percent_bps", field: path)
        }
        try FactDecoder.checkUnknownAndMissing(object, allowed: rewardFields, path: path)
        return try shape(object, path: path)
    }

    private static func shape(_ object: JSONObject, path: String) throws(LedgerError) -> RewardShape {
        let fixed = object["fixed"]
        let percent = object["percent_bps"]
        switch (fixed, percent) {
        case (let fixed?, nil):
            return .fixed(try FieldReader.integer(fixed, in: 0...JSONValue.maxInteger, field: path + ".fixed"))
        case (nil, let percent?):
            return .percentBps(try FieldReader.integer(percent, in: bps, field: path + ".percent_bps"))
        default:
            throw LedgerError(.badValue, "\(path) must hold exactly one of fixed and percent_bps", field: path)
        }
    }

    private static func tiers(_ value: JSONValue, path: String) throws(LedgerError) -> [Tier] {
        guard case .array(let elements) = value else {
            throw LedgerError(.badValue, "\(path) must be an array of tiers", field: path)
        }
        var tiers: [Tier] = []
        for (index, element) in elements.enumerated() {
            let tierPath = "\(path)[\(index)]"
            guard case .object(let object) = element else {
                throw LedgerError(.badValue, "\(tierPath) must be an object", field: tierPath)
            }
            try FactDecoder.checkUnknownAndMissing(object, allowed: tierFields, path: tierPath)
            let minimum = try FieldReader.integer(
                object["min_referrals"]!,
                in: 1...JSONValue.maxInteger,
                field: tierPath + ".min_referrals"
            )
            let reward = try shape(object, path: tierPath)
            if tiers.contains(where: { $0.minReferrals == minimum }) {
                throw LedgerError(
                    .badValue,
                    "\(tierPath).min_referrals \(minimum) repeats another tier's; they must be distinct",
                    field: tierPath + ".min_referrals"
                )
            }
            tiers.append(Tier(minReferrals: minimum, reward: reward))
        }
        return tiers.sorted { $0.minReferrals < $1.minReferrals }
    }

    private static func levels(_ value: JSONValue, path: String) throws(LedgerError) -> [Int64] {
        guard case .array(let elements) = value else {
            throw LedgerError(.badValue, "\(path) must be an array of basis points", field: path)
        }
        guard elements.count <= maxLevels else {
            throw LedgerError(.badValue, "\(path) may hold at most \(maxLevels) levels", field: path)
        }
        var levels: [Int64] = []
        for (index, element) in elements.enumerated() {
            levels.append(try FieldReader.integer(element, in: bps, field: "\(path)[\(index)]"))
        }
        return levels
    }
}
