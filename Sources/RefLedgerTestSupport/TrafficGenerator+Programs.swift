import RefLedgerCore

/// The programs the generator runs: names, currencies and rules as posted, and the rule
/// changes made mid-stream.
struct ProgramTemplate: Sendable {
    var name: [UInt8]
    var currency: StaticString
    var rules: StaticString

    /// Five kinds of program, then the same again with a number after the name.
    static func template(_ index: Int) -> ProgramTemplate {
        let base = bases[index % bases.count]
        var name = Array(base.name.utf8)
        if index >= bases.count { name += Array(String(index / bases.count + 1).utf8) }
        return ProgramTemplate(name: name, currency: base.currency, rules: base.rules)
    }

    private static let bases: [(name: String, currency: StaticString, rules: StaticString)] = [
        // One-sided fixed reward on the first conversion; defaults everywhere else.
        ("shop", "USD", #"{"currency":"USD","referrer_reward":{"fixed":1000}}"#),
        // Two-sided percent on every conversion, held 14 days, a short window and a cap.
        (
            "app", "EUR",
            #"{"currency":"EUR","attribution_window_days":7,"trigger":"every_conversion","referrer_reward":{"percent_bps":500},"referee_reward":{"percent_bps":1000},"hold_days":14,"referrer_cap":20000}"#
        ),
        // Signup rewards with tiers; the top tier is a percent, which derives nothing on signup.
        (
            "club", "GBP",
            #"{"currency":"GBP","attribution_window_days":14,"trigger":"signup","referrer_reward":{"fixed":200},"referee_reward":{"fixed":100},"tiers":[{"min_referrals":3,"fixed":300},{"min_referrals":25,"percent_bps":100}]}"#
        ),
        // Multi-level percent with tiers, a hold, a long window and a cap.
        (
            "mlm", "USD",
            #"{"currency":"USD","attribution_window_days":60,"trigger":"every_conversion","referrer_reward":{"percent_bps":300},"tiers":[{"min_referrals":2,"percent_bps":400},{"min_referrals":5,"percent_bps":600}],"levels_bps":[200,100,50],"hold_days":3,"referrer_cap":200000}"#
        ),
        // Two-sided fixed in a currency without minor units, a one-day window, a long hold.
        (
            "yen", "JPY",
            #"{"currency":"JPY","attribution_window_days":1,"referrer_reward":{"fixed":500},"referee_reward":{"fixed":500},"hold_days":30}"#
        ),
    ]

    /// The rules a program of this kind switches to mid-stream (same currency), if any.
    static func change(_ index: Int) -> StaticString? {
        switch index % bases.count {
        case 0:
            #"{"currency":"USD","trigger":"every_conversion","referrer_reward":{"percent_bps":800},"referee_reward":{"fixed":500},"tiers":[{"min_referrals":5,"percent_bps":1000}],"hold_days":7,"referrer_cap":150000}"#
        case 1:
            #"{"currency":"EUR","attribution_window_days":30,"referrer_reward":{"fixed":700},"levels_bps":[300]}"#
        case 3:
            #"{"currency":"USD","attribution_window_days":60,"trigger":"every_conversion","referrer_reward":{"percent_bps":300},"levels_bps":[0,150],"referrer_cap":25000}"#
        default: nil
        }
    }

    /// Decodes rules as posted into the ledger's own model (for the generator's estimates).
    static func decodeRules(_ json: StaticString) -> Rules {
        var text = Array(#"{"id":"x","type":"program","program":"x","time":"2026-01-01T00:00:00Z","rules":"#.utf8)
        text += UnsafeRawBufferPointer(start: json.utf8Start, count: json.utf8CodeUnitCount)
        text.append(UInt8(ascii: "}"))
        guard let fact = try? FactDecoder.decode(text, now: Timestamp(millisecondsSinceEpoch: Int64.max / 4)).payload,
            case .program(let rules) = fact
        else { preconditionFailure("a generator template does not decode: \(json)") }
        return rules
    }
}

/// What the generator knows of one participant, with its rough estimate of their money.
struct Member: Sendable {
    /// The participant id is "u<number>".
    var number: Int32
    /// The visitor it signed up with ("v<number>"), or −1.
    var visitor: Int32
    /// The index of the referrer the generator meant it to be attributed to, or −1.
    var referrer: Int32
    var conversions: Int32 = 0
    /// Referrals that count for tiers (attributed signups, or converted referees).
    var qualifying: Int32 = 0
    /// 0: the ledger assigns the code; 1…3: a custom code style.
    var codeStyle: UInt8
    var payoutPending = false
    /// The assigned code's symbols, packed (when `codeStyle` is 0), or 0 until first needed.
    var assignedCode: UInt64
    /// Estimated rewards less reversals (levels left out, so it errs low).
    var estimatedEarned: Int64 = 0
    /// Estimated gross capped rewards.
    var estimatedCapped: Int64 = 0
    /// Reserved plus paid, as posted.
    var committed: Int64 = 0
    /// The latest `available_at` of its estimated rewards, in ms.
    var heldUntil: Int64 = 0
}

/// An order (a conversion) as posted, and what refunds took.
struct Order: Sendable {
    var number: Int32
    var member: Int32
    var amount: Int64
    var refunded: Int64 = 0
    /// Estimated rewards it derived: to the referrer, to the referee.
    var referrerReward: Int64
    var refereeReward: Int64
}

/// A payout as posted.
struct PayoutRecord: Sendable {
    var number: Int32
    var member: Int32
    var amount: Int64
    /// 0 open, 1 settled, 2 failed.
    var state: UInt8 = 0
}

/// One program as the generator sees it.
struct ProgramModel: Sendable {
    var template: ProgramTemplate
    var index: Int
    var rules: Rules
    var live = false
    var members: [Member] = []
    var customCodeMembers: [Int32] = []
    var earners: [Int32] = []
    var orders: [Order] = []
    var payouts: [PayoutRecord] = []
    var finishedPayouts: [Int32] = []
    /// Participant numbers signed up here although created in another program.
    var borrowedNumbers: Set<Int32> = []
    /// Members with at least one scheduled or made invite.
    var inviters = 0
    var invitesPlanned = 0

    var name: [UInt8] { template.name }
}

/// Something the simulation will post later.
struct Pending: Sendable {
    enum Kind: UInt8, Sendable {
        case invite, click, referredSignup, conversion, refund, payout, payoutFinish
    }
    var kind: Kind
    var program: UInt8
    var flags: UInt8 = 0
    var subject: Int32
    var extra: Int64 = 0
}

/// A calendar queue of pending posts in one-hour buckets: O(1) to add and to take.
struct Schedule: Sendable {
    private var buckets: [[Pending]] = []
    private let origin: Int64
    private static let bucketMillis: Int64 = 3_600_000
    private var cursor = 0
    private(set) var count = 0

    init(origin: Int64) { self.origin = origin }

    mutating func add(_ item: Pending, due: Int64) {
        let index = Swift.max(cursor, Int(Swift.max(0, due - origin) / Self.bucketMillis))
        while buckets.count <= index { buckets.append([]) }
        buckets[index].append(item)
        count += 1
    }

    /// The next item due at or before `now`, if any.
    mutating func take(now: Int64) -> Pending? {
        let last = Int(Swift.max(0, now - origin) / Self.bucketMillis)
        while cursor <= last, cursor < buckets.count {
            if let item = buckets[cursor].popLast() {
                count -= 1
                return item
            }
            buckets[cursor] = []  // release the drained bucket's storage
            cursor += 1
        }
        return nil
    }
}
