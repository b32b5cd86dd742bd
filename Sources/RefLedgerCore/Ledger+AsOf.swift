extension Ledger {
    /// Takes back the effects of the last applied fact's derived events with a seq above
    /// `seq`, so that the ledger answers as of a position inside that fact's derivation
    /// (SPEC §5/§8: events with a higher seq than `as_of` are ignored).
    ///
    /// Only for answering queries: a ledger cut this way (``isCut``) applies no further fact.
    public mutating func cut(after seq: UInt64, derived events: [StoredEvent]) {
        isCut = true
        for event in events.reversed() where event.seq > seq {
            guard let program = event.fields["program"]?.stringValue, let index = programs.position(of: program) else {
                continue
            }
            programs[at: index].retract(event)
        }
        head = min(head, seq)
    }
}

extension ProgramState {
    /// The cohort member whose referee caused rewards of `order` (or of a signup reward).
    private func costMember(order: String?, beneficiary: Member, role: String) -> Member? {
        if let order, let buyer = orders[order]?.participant { return participants[at: buyer].referrer }
        return role == "referrer" ? beneficiary : participants[at: beneficiary].referrer
    }

    /// Undoes one derived event that was the last of its kind to be applied.
    mutating func retract(_ event: StoredEvent) {
        guard let beneficiary = event.fields["participant"]?.stringValue,
            let amount = event.fields["amount"]?.integerValue, let position = participants.position(of: beneficiary)
        else { return }
        let order = event.fields["order"]?.stringValue
        switch event.type {
        case "reward":
            let role = event.fields["role"]?.stringValue ?? ""
            guard let index = participants[at: position].rewards.lastIndex(where: { $0.id == event.id }) else { return }
            participants[at: position].rewards.remove(at: index)
            participants[at: position].netRewards -= Money(amount)
            if role != "referee" { participants[at: position].capAccrued -= Money(amount) }
            if let order, let link = orders.position(of: order) {
                orders[at: link].rewards.removeAll { $0.participant == position && $0.index == index }
            }
            if let member = costMember(order: order, beneficiary: position, role: role) {
                adjustStats(at: member) { $0.rewardCost -= Money(amount) }
            }
        case "reversal":
            guard let rewardID = event.fields["reward"]?.stringValue,
                let index = participants[at: position].rewards.firstIndex(where: { $0.id == rewardID })
            else { return }
            participants[at: position].rewards[index].reversed -= amount
            participants[at: position].netRewards += Money(amount)
            if let order, let buyer = orders[order]?.participant, let member = participants[at: buyer].referrer {
                adjustStats(at: member) { $0.rewardCost += Money(amount) }
            }
        default:
            break
        }
    }
}
