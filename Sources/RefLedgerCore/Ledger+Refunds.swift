extension ProgramState {
    /// A refund of part or all of an order: claws back that order's rewards (SPEC §4.2).
    mutating func refund(order orderID: String, amount: Int64, context: inout Derivation) throws(LedgerError) {
        guard let position = orders.position(of: orderID) else {
            throw LedgerError(.unknownOrder, "no order \(orderID) in \(name)", field: "order")
        }
        let order = orders[at: position]
        guard amount <= order.amount - order.refunded else {
            throw LedgerError(
                .overRefund,
                "order \(orderID) has \(order.amount - order.refunded) left to refund, not \(amount)",
                field: "amount"
            )
        }
        let refunded = order.refunded + amount
        orders[at: position].refunded = refunded
        let referrer = participants[at: order.participant].referrer
        if let referrer { adjustStats(at: referrer) { $0.referredRevenue -= Money(amount) } }
        for link in order.rewards {
            let beneficiary = link.participant
            let reward = participants[at: beneficiary].rewards[link.index]
            let target = Int64(
                (2 * Int128(reward.amount) * Int128(refunded) + Int128(order.amount)) / (2 * Int128(order.amount))
            )
            let reversal = target - reward.reversed
            guard reversal > 0 else { continue }
            context.derive(
                .reversal,
                [
                    ("participant", .string(participants.ids[beneficiary])), ("reward", .string(reward.id)),
                    ("amount", .integer(reversal)), ("currency", .string(rules.currency)),
                    ("order", .string(orderID)),
                ]
            )
            participants[at: beneficiary].rewards[link.index].reversed += reversal
            participants[at: beneficiary].netRewards -= Money(reversal)
            if let referrer { adjustStats(at: referrer) { $0.rewardCost -= Money(reversal) } }
        }
    }
}

extension ProgramState {
    /// A participant's balance (SPEC §5), holds judged at `at`.
    func balance(of id: String, at: Timestamp) -> Balance? {
        participants.position(of: id).map { balance(of: $0, at: at) }
    }

    /// The balance of the participant at `position`, holds judged at `at`.
    func balance(of position: Member, at: Timestamp) -> Balance {
        let member = participants[at: position]
        var balance = Balance(currency: rules.currency)
        for reward in member.rewards {
            let net = reward.amount - reward.reversed
            if reward.availableAt > at { balance.pending += Money(net) } else { balance.earned += Money(net) }
            balance.reversed += Money(reward.reversed)
        }
        balance.reserved = member.reserved
        balance.paid = member.paid
        return balance
    }

    /// Reserves `amount` of the participant's available balance at the payout's time.
    mutating func payout(
        participant id: String,
        payout payoutID: String,
        amount: Int64,
        currency: String,
        at time: Timestamp
    ) throws(LedgerError) {
        guard let member = participants.position(of: id) else { throw Ledger.unknownParticipant(id) }
        guard payouts.position(of: payoutID) == nil else {
            throw LedgerError(.duplicatePayout, "payout \(payoutID) already exists in \(name)", field: "payout")
        }
        guard currency == rules.currency else {
            throw LedgerError(
                .currencyMismatch,
                "program \(name) is in \(rules.currency), not \(currency)",
                field: "currency"
            )
        }
        let available = balance(of: member, at: time).available
        guard Money(amount) <= available else {
            throw LedgerError(
                .insufficientFunds,
                "participant \(id) has \(available) available at \(time), not \(amount)",
                field: "amount"
            )
        }
        // Checked new above, and nothing adds a payout in between.
        _ = payouts.addIfAbsent(Payout(participant: member, amount: amount, state: .open), forKey: payoutID)
        participants[at: member].reserved += Money(amount)
    }

    /// The money of an open payout left (settled) or came back (failed).
    mutating func finishPayout(_ payoutID: String, settled: Bool) throws(LedgerError) {
        guard let position = payouts.position(of: payoutID) else {
            throw LedgerError(.unknownPayout, "no payout \(payoutID) in \(name)", field: "payout")
        }
        let payout = payouts[at: position]
        guard payout.state == .open else {
            throw LedgerError(
                .payoutFinished,
                "payout \(payoutID) is already \(payout.state == .settled ? "settled" : "failed")",
                field: "payout"
            )
        }
        payouts[at: position].state = settled ? .settled : .failed
        let member = payout.participant
        participants[at: member].reserved -= Money(payout.amount)
        if settled { participants[at: member].paid += Money(payout.amount) }
    }
}

/// A participant's money in one program (SPEC §5).
public struct Balance: Sendable, Hashable {
    public var pending: Money = 0
    public var earned: Money = 0
    public var reversed: Money = 0
    public var reserved: Money = 0
    public var paid: Money = 0
    public var currency: String

    public init(currency: String) { self.currency = currency }

    /// earned − reserved − paid; below 0 after a reversal of money already paid.
    public var available: Money { earned - reserved - paid }

    /// The JSON of §5, in the contract's field order.
    public var jsonObject: JSONObject {
        JSONObject([
            ("pending", .money(pending)), ("earned", .money(earned)), ("reversed", .money(reversed)),
            ("reserved", .money(reserved)), ("currency", .string(currency)), ("paid", .money(paid)),
            ("available", .money(available)),
        ])
    }
}
