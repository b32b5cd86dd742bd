/// Which ranking a leaderboard shows.
public enum LeaderboardOrder: String, Sendable, CaseIterable {
    case referees
    case rewards
}

extension Ledger {
    private func program(_ name: String) throws(LedgerError) -> ProgramState {
        guard let program = programs[name] else {
            throw LedgerError(.notFound, "no program \(name)", field: "program")
        }
        return program
    }

    /// Whether a program exists (has a `program` fact).
    public func hasProgram(_ name: String) -> Bool { programs[name] != nil }

    /// The program's rules in force now.
    public func rules(of program: String) -> Rules? { programs[program]?.rules }

    /// Names of the programs, sorted.
    public var programNames: [String] { programs.keys.sorted() }

    /// A participant's balance, holds judged at `at`.
    public func balance(program name: String, participant: String, at: Timestamp) throws(LedgerError) -> Balance {
        guard let balance = try program(name).balance(of: participant, at: at) else {
            throw LedgerError(.notFound, "no participant \(participant) in \(name)", field: "participant")
        }
        return balance
    }

    /// Every participant's balance in a program (for the accounting invariant).
    public func balances(program name: String, at: Timestamp) -> [String: Balance] {
        guard let program = programs[name] else { return [:] }
        var result: [String: Balance] = [:]
        for (position, id) in program.participants.ids.enumerated() {
            result[id] = program.balance(of: position, at: at)
        }
        return result
    }

    /// The participant view of SPEC §6, without `as_of` handling (this ledger's head is the log).
    public func participantView(
        program name: String,
        participant id: String,
        at: Timestamp
    ) throws(LedgerError)
        -> JSONObject
    {
        let program = try program(name)
        guard let position = program.participants.position(of: id) else {
            throw LedgerError(.notFound, "no participant \(id) in \(name)", field: "participant")
        }
        let member = program.participants[at: position]
        let balance = program.balance(of: position, at: at)
        return JSONObject([
            ("program", .string(name)), ("participant", .string(id)), ("code", .string(member.code)),
            ("referrer", member.referrer.map { .string(program.participants.ids[$0]) } ?? .null),
            ("signup_time", .string(member.signupTime.description)),
            ("referees", .integer(member.stats.referredSignups)), ("balance", .object(balance.jsonObject)),
        ])
    }

    /// The leaderboard of SPEC §6: rows whose value is > 0, best first, ties by participant id.
    public func leaderboard(
        program name: String,
        by order: LeaderboardOrder,
        limit: Int
    ) throws(LedgerError)
        -> JSONObject
    {
        let program = try program(name)
        typealias Row = (id: String, member: Participant)
        func value(_ member: Participant) -> Money {
            order == .referees ? Money(member.stats.referredSignups) : member.netRewards
        }
        func precedes(_ a: Row, _ b: Row) -> Bool {
            let (left, right) = (value(a.member), value(b.member))
            return left != right ? left > right : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
        }
        // Top `limit` by one pass, kept sorted: no sort of every participant.
        var top: [Row] = []
        top.reserveCapacity(limit + 1)
        for (id, member) in program.participants where value(member) > 0 {
            let row = (id, member)
            if top.count == limit, let last = top.last, !precedes(row, last) { continue }
            var low = 0
            var high = top.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(top[middle], row) { low = middle + 1 } else { high = middle }
            }
            top.insert(row, at: low)
            if top.count > limit { top.removeLast() }
        }
        let rows = top.map { id, member -> JSONValue in
            .object(
                JSONObject([
                    ("participant", .string(id)), ("code", .string(member.code)),
                    ("referees", .integer(member.stats.referredSignups)), ("rewards", .money(member.netRewards)),
                ])
            )
        }
        return JSONObject([("by", .string(order.rawValue)), ("rows", .array(rows))])
    }

    /// Σ rewards − Σ reversals of a program, from its participants' reward entries.
    public func netRewards(program name: String) -> Money {
        programs[name]?.participants.values.reduce(0) { $0 + $1.netRewards } ?? 0
    }
}

extension Ledger {
    /// Number of participants of a program (0 if it does not exist).
    public func participantCount(program name: String) -> Int { programs[name]?.participants.count ?? 0 }

    /// The participant ids of a program, sorted.
    public func participantIDs(program name: String) -> [String] {
        programs[name]?.participants.ids.sorted() ?? []
    }
}
