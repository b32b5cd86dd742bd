/// A member of a fact other than a `program` (whose `rules` is an object): the names both
/// decoding paths read, each with the rule its string value must follow.
enum FactField: Int, CaseIterable {
    case id, type, program, time
    case participant, code, referrerCode, visitor, channel, invitee, order, amount, currency, payout, reason

    /// The member name (a literal: no `String` is made when a key matches).
    var name: String {
        switch self {
        case .id: "id"
        case .type: "type"
        case .program: "program"
        case .time: "time"
        case .participant: "participant"
        case .code: "code"
        case .referrerCode: "referrer_code"
        case .visitor: "visitor"
        case .channel: "channel"
        case .invitee: "invitee"
        case .order: "order"
        case .amount: "amount"
        case .currency: "currency"
        case .payout: "payout"
        case .reason: "reason"
        }
    }

    /// What a string value of this member must be (SPEC §2); `nil` for the members checked
    /// otherwise (`type`, `time`, `channel`, `amount`).
    var rule: FieldRule? {
        switch self {
        case .id: .identifier
        case .program: .programName
        case .participant, .visitor, .invitee, .order, .payout: .reference
        case .code, .referrerCode: .code
        case .currency: .currency
        case .reason: .reason
        case .type, .time, .channel, .amount: nil
        }
    }

    var bit: UInt32 { 1 << UInt32(rawValue) }

    /// The member each known member name (``KnownKeys``) is, by its index there.
    private static let byKnownIndex: [FactField?] = {
        var table = [FactField?](repeating: nil, count: KnownKeys.count)
        for field in allCases {
            var name = field.name
            guard let known = name.withUTF8({ KnownKeys.name(UnsafeRawBufferPointer($0)) }) else {
                preconditionFailure("\(field.name) is a fact's member name, so a known one")
            }
            table[known.index] = field
        }
        return table
    }()

    /// The member these key bytes name, if any.
    static func named(_ key: UnsafeBufferPointer<UInt8>) -> FactField? {
        guard let known = KnownKeys.name(UnsafeRawBufferPointer(key)) else { return nil }
        return byKnownIndex[known.index]
    }
}

extension FactPayload {
    /// The payload of a fact of `type` (any but `program`), its members read through `text`
    /// (a string member), `channel` and `amount` — one at a time, in the contract's order,
    /// which is the order a fact's bad values are found in. Members the type requires are
    /// there (checked before).
    static func read<Failure: Error>(
        _ type: FactType,
        text: (FactField) throws(Failure) -> String?,
        channel: () throws(Failure) -> Channel?,
        amount: () throws(Failure) -> Int64?
    ) throws(Failure) -> FactPayload {
        switch type {
        case .program:
            preconditionFailure("a program's payload is its rules, read by RulesDecoder")
        case .signup:
            .signup(
                participant: try text(.participant)!,
                code: try text(.code),
                referrerCode: try text(.referrerCode),
                visitor: try text(.visitor)
            )
        case .invite:
            .invite(participant: try text(.participant)!, channel: try channel()!, invitee: try text(.invitee))
        case .click:
            .click(code: try text(.code)!, visitor: try text(.visitor)!, channel: try channel())
        case .conversion:
            .conversion(
                participant: try text(.participant)!,
                order: try text(.order)!,
                amount: try amount()!,
                currency: try text(.currency)!
            )
        case .refund:
            .refund(order: try text(.order)!, amount: try amount()!)
        case .payout:
            .payout(
                participant: try text(.participant)!,
                payout: try text(.payout)!,
                amount: try amount()!,
                currency: try text(.currency)!
            )
        case .payoutSettled:
            .payoutSettled(payout: try text(.payout)!)
        case .payoutFailed:
            .payoutFailed(payout: try text(.payout)!, reason: try text(.reason))
        }
    }
}
