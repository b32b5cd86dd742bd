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

    /// The member these key bytes name, if any.
    ///
    /// The names are 2–13 bytes, so a key is read as two 8-byte words — its first and its last
    /// eight bytes, overlapping when shorter than 16, zero-padded when shorter than 8 — and
    /// compared with each name's words of the same length: a few instructions a member, where
    /// a byte-by-byte look-up took ~140 (this runs for every member of every flat fact).
    static func named(_ key: UnsafeBufferPointer<UInt8>) -> FactField? {
        guard key.count < byLength.count else { return nil }
        let words = Words(key)
        for (name, field) in byLength[key.count] where name == words { return field }
        return nil
    }

    /// A key's first and last eight bytes (see ``named(_:)``).
    private struct Words: Equatable {
        var first: UInt64
        var last: UInt64

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let base = bytes.baseAddress, bytes.count >= 8 else {
                var word: UInt64 = 0
                for (index, byte) in bytes.enumerated() { word |= UInt64(byte) << UInt64(8 * index) }
                (first, last) = (word, word)
                return
            }
            let raw = UnsafeRawPointer(base)
            first = raw.loadUnaligned(as: UInt64.self)
            last = raw.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
        }
    }

    /// The members by the length of their names, each with its name's words.
    private static let byLength: [[(Words, FactField)]] = {
        let longest = allCases.map(\.name.utf8.count).max() ?? 0
        var table = [[(Words, FactField)]](repeating: [], count: longest + 1)
        for field in allCases {
            let bytes = Array(field.name.utf8)
            table[bytes.count].append((bytes.withUnsafeBufferPointer { Words($0) }, field))
        }
        return table
    }()
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
