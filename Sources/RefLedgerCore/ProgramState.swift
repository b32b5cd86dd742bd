/// What one cohort member contributes to the metrics of §8 (every field additive, so a
/// program keeps the same numbers summed over all its participants).
public struct MemberStats: Sendable, Hashable {
    // The 16-byte sums first: no padding between fields (it is inside every participant).
    public var referredRevenue: Money = 0
    public var rewardCost: Money = 0
    public var referredOrderAmount: Money = 0
    /// 1 when the member was itself attributed to a referrer.
    public var referred: Int64 = 0
    public var invites: Int64 = 0
    public var clicks: Int64 = 0
    /// Referees attributed to the member.
    public var referredSignups: Int64 = 0
    public var convertedReferees: Int64 = 0
    public var referredOrders: Int64 = 0
    public var selfReferrals: Int64 = 0

    public init() {}
}

/// One reward a participant received, and how much of it has been reversed.
struct RewardEntry: Sendable, Hashable {
    var id: String
    var amount: Int64
    var reversed: Int64 = 0
    var availableAt: Timestamp
}

/// A participant of one program, kept under its id (which it does not repeat).
struct Participant: Sendable, Hashable {
    // The 16-byte sums first: no padding between fields (participants are most of the state).
    /// Gross `referrer` and `levelN` rewards accrued, for the cap.
    var capAccrued: Money = 0
    /// Net rewards (rewards − reversals), for the leaderboard.
    var netRewards: Money = 0
    var reserved: Money = 0
    var paid: Money = 0
    /// Its metrics as a cohort member; `referredSignups` and `convertedReferees` also
    /// count its qualifying referrals for tiers.
    var stats = MemberStats()
    var code: String
    /// Where its referrer is in the program's participants.
    var referrer: ProgramState.Member?
    var signupTime: Timestamp
    var visitor: String?
    /// Time of the first conversion (first by seq), when there was one.
    var firstConversionTime: Timestamp?
    var rewards: [RewardEntry] = []
}

/// An order (a conversion) and the rewards it derived, in derivation order.
struct Order: Sendable, Hashable {
    /// The buyer's position in the program's participants.
    var participant: ProgramState.Member
    var amount: Int64
    var refunded: Int64 = 0
    /// (beneficiary's position, index into the beneficiary's `rewards`)
    var rewards: [(participant: ProgramState.Member, index: Int)] = []

    static func == (lhs: Order, rhs: Order) -> Bool {
        lhs.participant == rhs.participant && lhs.amount == rhs.amount && lhs.refunded == rhs.refunded
            && lhs.rewards.elementsEqual(rhs.rewards, by: { $0.participant == $1.participant && $0.index == $1.index })
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(participant)
        hasher.combine(amount)
        hasher.combine(refunded)
    }
}

/// A payout and where it stands.
struct Payout: Sendable, Hashable {
    enum State: Sendable, Hashable { case open, settled, failed }
    /// The payee's position in the program's participants.
    var participant: ProgramState.Member
    var amount: Int64
    var state: State
}

/// A click of a visitor on a participant's code.
struct Click: Sendable, Hashable {
    var time: Timestamp
    var seq: UInt64
    /// The code owner's position in the program's participants.
    var owner: ProgramState.Member
}

/// The state of one program, folded from its facts.
struct ProgramState: Sendable {
    var name: String
    var rules: Rules
    var participants = ParticipantTable()
    /// Lower-cased code → its owner's position in `participants`.
    var codeOwners = KeyedTable<Member>()
    /// Each visitor's clicks, in seq order.
    var clicksByVisitor = KeyedTable<[Click]>()
    var orders = KeyedTable<Order>()
    var payouts = KeyedTable<Payout>()
    /// The sum of every participant's `stats`.
    var totals = MemberStats()
    /// Participants with at least one referee.
    var activeReferrers: Int64 = 0
    /// Seconds ×1000 from each converted referee's signup to its first conversion.
    var timeToConvertMillis = OrderStatistics()

    init(name: String, rules: Rules) {
        self.name = name
        self.rules = rules
    }

    /// Where a participant is in `participants`: how the state refers to a participant (a
    /// referrer, a code's or click's owner, an order's buyer or rewarded, a payout's payee).
    /// Positions never change: participants are never removed.
    typealias Member = Int

    /// Applies `change` to the stats of the participant at `member` and to the totals alike.
    mutating func adjustStats(at member: Member, _ change: (inout MemberStats) -> Void) {
        change(&participants[at: member].stats)
        change(&totals)
    }
}
