import RefLedgerCore
import RefLedgerTestSupport

/// A second, deliberately plain reading of SPEC §2–§5, written from the contract's text and
/// not from the ledger's code: what a fact should be answered, decided and derived.
///
/// Decoding is trusted (`FactDecoder`); everything after it — idempotency, state rules,
/// codes, attribution, rewards, caps, tiers, levels, holds, reversals, payouts — is modelled
/// here, so that a difference from the ledger points at one of the two readings.
struct SpecModel {
    /// What the model expects of one fact.
    enum Expectation: Equatable {
        case duplicate
        case rejected(ErrorCode)
        /// The stored fact (client fields plus decisions, seq and recorded_at) and its
        /// derived events, in order.
        case created([JSONObject])
    }

    struct Member {
        var code: String
        var referrer: String?
        var visitor: String?
        var signupTime: Timestamp
        var hasConverted = false
        var attributedSignups: Int64 = 0
        var convertedReferees: Int64 = 0
        var cappedGross: Int64 = 0
        var rewards: [String] = []
        var reserved: Int64 = 0
        var paid: Int64 = 0
        // For the metrics of §8:
        var invites: Int64 = 0
        var clicks: Int64 = 0
        var selfReferrals: Int64 = 0
        var firstConversionTime: Timestamp?
        var orders: Int64 = 0
        var orderAmount: Int64 = 0
        /// Conversion amounts less refunds.
        var revenue: Int64 = 0
        /// Rewards its signup and conversions derived (+) and reversals of its orders (−), by seq.
        var costEvents: [(seq: UInt64, amount: Int64)] = []
    }

    struct Reward {
        var beneficiary: String
        var amount: Int64
        var seq: UInt64
        var availableAt: Timestamp
        var reversals: [(seq: UInt64, amount: Int64)] = []

        /// Reversed so far, counting reversals up to `asOf`.
        func reversed(asOf: UInt64 = .max) -> Int64 { reversals.filter { $0.seq <= asOf }.reduce(0) { $0 + $1.amount } }
    }

    struct Order {
        var participant: String
        var amount: Int64
        var refunded: Int64 = 0
        var rewards: [String] = []
    }

    struct Click {
        var time: Timestamp
        var seq: UInt64
        var owner: String
    }

    struct Program {
        var rules: Rules
        var members: [String: Member] = [:]
        var owners: [String: String] = [:]  // lower-cased code → participant
        var clicks: [String: [Click]] = [:]
        var orders: [String: Order] = [:]
        var payouts: [String: (participant: String, amount: Int64, open: Bool)] = [:]
        var rewards: [String: Reward] = [:]
    }

    var programs: [String: Program] = [:]
    var head: UInt64 = 0
    var clientFields: [String: JSONObject] = [:]
    let recordedAt: Timestamp

    init(recordedAt: Timestamp) { self.recordedAt = recordedAt }

    /// Applies a decoded fact; on acceptance the model's state moves on.
    mutating func apply(_ fact: Fact) -> Expectation {
        if let stored = clientFields[fact.id] {
            return stored == fact.clientFields ? .duplicate : .rejected(.idConflict)
        }
        var work = Work(fact: fact, seq: head + 1, recordedAt: recordedAt)
        if case .program(let rules) = fact.payload {
            if let existing = programs[fact.program] {
                guard existing.rules.currency == rules.currency else { return .rejected(.currencyMismatch) }
                programs[fact.program]!.rules = rules
            } else {
                programs[fact.program] = Program(rules: rules)
            }
        } else {
            guard var program = programs[fact.program] else { return .rejected(.unknownProgram) }
            if let code = program.apply(fact, work: &work) { return .rejected(code) }
            programs[fact.program] = program
        }
        clientFields[fact.id] = fact.clientFields
        head += UInt64(1 + work.derived.count)
        return .created([work.stored] + work.derived)
    }
}

/// The events one fact becomes.
struct Work {
    let fact: Fact
    let seq: UInt64
    let recordedAt: Timestamp
    var stored: JSONObject
    var derived: [JSONObject] = []

    init(fact: Fact, seq: UInt64, recordedAt: Timestamp) {
        self.fact = fact
        self.seq = seq
        self.recordedAt = recordedAt
        stored = fact.clientFields
        stored["seq"] = .integer(Int64(seq))
        stored["recorded_at"] = .string(recordedAt.description)
    }

    /// Adds a derived event; returns its id and seq.
    @discardableResult
    mutating func derive(_ type: String, _ members: [(String, JSONValue)]) -> (id: String, seq: UInt64) {
        let id = fact.id + "/" + String(derived.count + 1)
        var event = JSONObject(members)
        event["id"] = .string(id)
        event["seq"] = .integer(Int64(seq) + Int64(derived.count) + 1)
        event["type"] = .string(type)
        event["program"] = .string(fact.program)
        event["time"] = .string(fact.time.description)
        event["cause"] = .string(fact.id)
        event["recorded_at"] = .string(recordedAt.description)
        derived.append(event)
        return (id, seq + UInt64(derived.count))
    }
}

extension SpecModel.Program {
    /// Applies a non-program fact; returns the error code when a state rule refuses it.
    mutating func apply(_ fact: Fact, work: inout Work) -> ErrorCode? {
        switch fact.payload {
        case .program: return nil
        case .signup(let participant, let code, let referrerCode, let visitor):
            return signup(participant, code: code, referrerCode: referrerCode, visitor: visitor, work: &work)
        case .invite(let participant, _, _):
            guard members[participant] != nil else { return .unknownParticipant }
            members[participant]!.invites += 1
            return nil
        case .click(let code, let visitor, _):
            guard let owner = owners[code.lowercased()] else { return .unknownCode }
            clicks[visitor, default: []].append(SpecModel.Click(time: fact.time, seq: work.seq, owner: owner))
            members[owner]!.clicks += 1
            return nil
        case .conversion(let participant, let order, let amount, let currency):
            guard members[participant] != nil else { return .unknownParticipant }
            guard orders[order] == nil else { return .duplicateOrder }
            guard currency == rules.currency else { return .currencyMismatch }
            convert(participant, order: order, amount: amount, work: &work)
            return nil
        case .refund(let order, let amount):
            guard let existing = orders[order] else { return .unknownOrder }
            guard amount <= existing.amount - existing.refunded else { return .overRefund }
            refund(order, amount: amount, work: &work)
            return nil
        case .payout(let participant, let payout, let amount, let currency):
            guard members[participant] != nil else { return .unknownParticipant }
            guard payouts[payout] == nil else { return .duplicatePayout }
            guard currency == rules.currency else { return .currencyMismatch }
            guard Money(amount) <= balance(participant, at: fact.time).available else { return .insufficientFunds }
            payouts[payout] = (participant, amount, true)
            members[participant]!.reserved += amount
            return nil
        case .payoutSettled(let payout), .payoutFailed(let payout, _):
            guard let existing = payouts[payout] else { return .unknownPayout }
            guard existing.open else { return .payoutFinished }
            payouts[payout]!.open = false
            members[existing.participant]!.reserved -= existing.amount
            if case .payoutSettled = fact.payload { members[existing.participant]!.paid += existing.amount }
            return nil
        }
    }

    private mutating func signup(
        _ participant: String,
        code: String?,
        referrerCode: String?,
        visitor: String?,
        work: inout Work
    ) -> ErrorCode? {
        guard members[participant] == nil else { return .participantExists }
        if let code, owners[code.lowercased()] != nil { return .codeTaken }
        let time = work.fact.time
        var attribution = "none"
        var candidate: String?
        if let referrerCode {
            candidate = owners[referrerCode.lowercased()]
            attribution = candidate == nil ? "unknown_code" : "referrer_code"
        } else if let visitor {
            let earliest = time.adding(milliseconds: -rules.attributionWindowDays * 86_400_000)
            let inWindow = (clicks[visitor] ?? []).filter { $0.time >= earliest && $0.time <= time }
            if let last = inWindow.max(by: { ($0.time, $0.seq) < ($1.time, $1.seq) }) {
                candidate = last.owner
                attribution = "click"
            }
        }
        if let would = candidate, let visitor, members[would]!.visitor == visitor { attribution = "self_referral" }
        var finalCode = code ?? ""
        if code == nil {
            let base = TrafficGenerator.assignedCode(program: work.fact.program, participant: participant)
            finalCode = base
            var suffix = 2
            while owners[finalCode.lowercased()] != nil {
                finalCode = base + String(suffix)
                suffix += 1
            }
            work.stored["code"] = .string(finalCode)
            work.stored["code_assigned"] = .bool(true)
        }
        work.stored["attribution"] = .string(attribution)
        let attributed = attribution == "referrer_code" || attribution == "click"
        if attributed { work.stored["referrer"] = .string(candidate!) }
        if attribution == "self_referral" {
            work.stored["self_referrer"] = .string(candidate!)
            members[candidate!]!.selfReferrals += 1
        }
        owners[finalCode.lowercased()] = participant
        members[participant] = SpecModel.Member(
            code: finalCode,
            referrer: attributed ? candidate : nil,
            visitor: visitor,
            signupTime: time
        )
        guard attributed, let referrer = candidate else { return nil }
        members[referrer]!.attributedSignups += 1
        guard rules.trigger == .signup else { return nil }
        let shape = referrerShape(qualifying: members[referrer]!.attributedSignups)
        grant(
            referrer,
            role: "referrer",
            amount: Self.value(shape, of: nil),
            order: nil,
            causer: participant,
            work: &work
        )
        if let refereeShape = rules.refereeReward {
            grant(
                participant,
                role: "referee",
                amount: Self.value(refereeShape, of: nil),
                order: nil,
                causer: participant,
                work: &work
            )
        }
        return nil
    }

    private mutating func convert(_ participant: String, order: String, amount: Int64, work: inout Work) {
        let first = !members[participant]!.hasConverted
        members[participant]!.hasConverted = true
        if first { members[participant]!.firstConversionTime = work.fact.time }
        members[participant]!.orders += 1
        members[participant]!.orderAmount += amount
        members[participant]!.revenue += amount
        orders[order] = SpecModel.Order(participant: participant, amount: amount)
        guard let referrer = members[participant]!.referrer else { return }
        if first { members[referrer]!.convertedReferees += 1 }
        switch rules.trigger {
        case .signup: return
        case .firstConversion: guard first else { return }
        case .everyConversion: break
        }
        let shape = referrerShape(qualifying: members[referrer]!.convertedReferees)
        grant(
            referrer,
            role: "referrer",
            amount: Self.value(shape, of: amount),
            order: order,
            causer: participant,
            work: &work
        )
        if let refereeShape = rules.refereeReward {
            grant(
                participant,
                role: "referee",
                amount: Self.value(refereeShape, of: amount),
                order: order,
                causer: participant,
                work: &work
            )
        }
        var ancestor = members[referrer]!.referrer
        for (index, bps) in rules.levelsBps.enumerated() {
            guard let beneficiary = ancestor else { break }
            grant(
                beneficiary,
                role: "level\(index + 2)",
                amount: Self.value(.percentBps(bps), of: amount),
                order: order,
                causer: participant,
                work: &work
            )
            ancestor = members[beneficiary]!.referrer
        }
    }

    private mutating func refund(_ order: String, amount: Int64, work: inout Work) {
        orders[order]!.refunded += amount
        let buyer = orders[order]!.participant
        members[buyer]!.revenue -= amount
        let total = orders[order]!.amount
        let refunded = orders[order]!.refunded
        for id in orders[order]!.rewards {
            let reward = rewards[id]!
            let target = (2 * reward.amount * refunded + total) / (2 * total)
            let reversal = target - reward.reversed()
            guard reversal > 0 else { continue }
            let seq = work.seq + UInt64(work.derived.count) + 1
            rewards[id]!.reversals.append((seq, reversal))
            members[buyer]!.costEvents.append((seq, -reversal))
            work.derive(
                "reversal",
                [
                    ("participant", .string(reward.beneficiary)), ("reward", .string(id)),
                    ("amount", .integer(reversal)),
                    ("currency", .string(rules.currency)), ("order", .string(order)),
                ]
            )
        }
    }

    private func referrerShape(qualifying: Int64) -> RewardShape {
        let reached = rules.tiers.filter { $0.minReferrals <= qualifying }
        return reached.max(by: { $0.minReferrals < $1.minReferrals })?.reward ?? rules.referrerReward
    }

    private static func value(_ shape: RewardShape, of amount: Int64?) -> Int64 {
        switch shape {
        case .fixed(let fixed): return fixed
        case .percentBps(let bps):
            guard let amount else { return 0 }
            return (amount * bps + 5000) / 10_000
        }
    }

    private mutating func grant(
        _ beneficiary: String,
        role: String,
        amount: Int64,
        order: String?,
        causer: String,
        work: inout Work
    ) {
        var amount = amount
        let capped = role != "referee"
        if capped, let cap = rules.referrerCap {
            amount = Swift.min(amount, Swift.max(0, cap - members[beneficiary]!.cappedGross))
        }
        guard amount > 0 else { return }
        let availableAt = work.fact.time.adding(milliseconds: rules.holdDays * 86_400_000)
        var fields: [(String, JSONValue)] = [
            ("participant", .string(beneficiary)), ("role", .string(role)), ("amount", .integer(amount)),
            ("currency", .string(rules.currency)), ("available_at", .string(availableAt.description)),
        ]
        if let order { fields.append(("order", .string(order))) }
        let (id, seq) = work.derive("reward", fields)
        if capped { members[beneficiary]!.cappedGross += amount }
        members[causer]!.costEvents.append((seq, amount))
        members[beneficiary]!.rewards.append(id)
        rewards[id] = SpecModel.Reward(beneficiary: beneficiary, amount: amount, seq: seq, availableAt: availableAt)
        if let order { orders[order]!.rewards.append(id) }
    }
}
