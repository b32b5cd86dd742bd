/// The kinds of fact a client may post (SPEC §2), in the contract's spelling.
public enum FactType: String, Sendable, CaseIterable {
    case program
    case signup
    case invite
    case click
    case conversion
    case refund
    case payout
    case payoutSettled = "payout_settled"
    case payoutFailed = "payout_failed"

    /// The type's position in `allCases`.
    public var index: Int { Self.inOrder.firstIndex(of: self)! }

    /// The type a fact names, as `init(rawValue:)` finds it, but comparing the name with one
    /// candidate only, picked by its length and first letter (decoding asks this of every fact).
    static func named(_ name: String) -> FactType? {
        let candidate: FactType? =
            switch (name.utf8.count, name.utf8.first) {
            case (7, UInt8(ascii: "p")): .program
            case (6, UInt8(ascii: "s")): .signup
            case (6, UInt8(ascii: "i")): .invite
            case (5, UInt8(ascii: "c")): .click
            case (10, UInt8(ascii: "c")): .conversion
            case (6, UInt8(ascii: "r")): .refund
            case (6, UInt8(ascii: "p")): .payout
            case (14, UInt8(ascii: "p")): .payoutSettled
            case (13, UInt8(ascii: "p")): .payoutFailed
            default: nil
            }
        guard let candidate, candidate.rawValue == name else { return nil }
        return candidate
    }

    private static let inOrder = allCases
}

/// The types the daemon derives itself; a client posting one gets `derived_type`.
public enum DerivedType: String, Sendable, CaseIterable {
    case reward
    case reversal
}

/// How an invite was sent.
public enum Channel: String, Sendable, CaseIterable {
    case email, sms, link, social, other
}

/// A reward amount: a fixed number of minor units, or basis points of the conversion amount.
public enum RewardShape: Sendable, Hashable {
    case fixed(Int64)
    case percentBps(Int64)
}

/// When a referral earns rewards.
public enum Trigger: String, Sendable, CaseIterable {
    case signup
    case firstConversion = "first_conversion"
    case everyConversion = "every_conversion"
}

/// A tier of the referrer reward: from `minReferrals` qualifying referrals on, `reward` applies.
public struct Tier: Sendable, Hashable {
    public var minReferrals: Int64
    public var reward: RewardShape
}

/// A program's rules (SPEC §4), with defaults filled in.
public struct Rules: Sendable, Hashable {
    public var currency: String
    public var attributionWindowDays: Int64 = 30
    public var trigger: Trigger = .firstConversion
    public var referrerReward: RewardShape
    public var refereeReward: RewardShape?
    /// Sorted by `minReferrals`, ascending.
    public var tiers: [Tier] = []
    public var levelsBps: [Int64] = []
    public var holdDays: Int64 = 0
    public var referrerCap: Int64?

    public init(currency: String, referrerReward: RewardShape) {
        self.currency = currency
        self.referrerReward = referrerReward
    }
}

/// What one fact says, typed by kind.
public enum FactPayload: Sendable, Hashable {
    case program(Rules)
    case signup(participant: String, code: String?, referrerCode: String?, visitor: String?)
    case invite(participant: String, channel: Channel, invitee: String?)
    case click(code: String, visitor: String, channel: Channel?)
    case conversion(participant: String, order: String, amount: Int64, currency: String)
    case refund(order: String, amount: Int64)
    case payout(participant: String, payout: String, amount: Int64, currency: String)
    case payoutSettled(payout: String)
    case payoutFailed(payout: String, reason: String?)
}

/// A decoded, validated fact.
///
/// `clientFields` is exactly what the client posted, with `time` normalized to UTC
/// milliseconds and nothing else rewritten: it is what the log stores and what idempotency
/// compares.
public struct Fact: Sendable, Hashable {
    public var id: String
    public var type: FactType
    public var program: String
    public var time: Timestamp
    public var payload: FactPayload
    public var clientFields: JSONObject {
        didSet { canonicalClient = nil }
    }
    /// The canonical JSON of `clientFields`, when the decoder could write it straight from the
    /// posted bytes (``FlatCanonical``); not part of the fact's value.
    var canonicalClient: [UInt8]?

    public init(
        id: String,
        type: FactType,
        program: String,
        time: Timestamp,
        payload: FactPayload,
        clientFields: JSONObject
    ) {
        self.id = id
        self.type = type
        self.program = program
        self.time = time
        self.payload = payload
        self.clientFields = clientFields
    }

    public static func == (lhs: Fact, rhs: Fact) -> Bool {
        lhs.id == rhs.id && lhs.type == rhs.type && lhs.program == rhs.program && lhs.time == rhs.time
            && lhs.payload == rhs.payload && lhs.clientFields == rhs.clientFields
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(type)
        hasher.combine(program)
        hasher.combine(time)
        hasher.combine(payload)
        hasher.combine(clientFields)
    }
}
