/// A projection query (SPEC §6, §8): what is asked and its parameters, validated.
public struct Query: Sendable, Hashable {
    /// What is asked.
    public enum Kind: Sendable, Hashable {
        case participant(program: String, id: String)
        case metrics(program: String)
        case leaderboard(program: String)

        public var program: String {
            switch self {
            case .participant(let program, _), .metrics(let program), .leaderboard(let program): program
            }
        }
    }

    public var kind: Kind
    /// Log position to answer at; nil is the head (and so is anything above it).
    public var asOf: UInt64?
    /// When holds are judged (participants); nil is the clock's now.
    public var at: Timestamp?
    public var from: Timestamp?
    public var to: Timestamp?
    public var by: LeaderboardOrder = .referees
    public var limit = 10

    public init(kind: Kind) { self.kind = kind }

    /// A query with its parameters read from name/value pairs (URL query or command line).
    ///
    /// - Throws: `bad_value` naming the parameter that is malformed; nothing is clamped.
    public init(kind: Kind, parameters: [(String, String)]) throws(LedgerError) {
        self.kind = kind
        for (name, value) in parameters {
            switch name {
            case "as_of":
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                    throw LedgerError(.badValue, "as_of must be an integer ≥ 0", field: "as_of")
                }
                // An integer too large for a seq is still above the head: it means the head.
                asOf = UInt64(value) ?? .max
            case "at": at = try Self.time(value, name)
            case "from": from = try Self.time(value, name)
            case "to": to = try Self.time(value, name)
            case "by":
                guard let order = LeaderboardOrder(rawValue: value) else {
                    throw LedgerError(.badValue, "by must be referees or rewards", field: "by")
                }
                by = order
            case "limit":
                guard value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(value),
                    (1...1000).contains(number)
                else {
                    throw LedgerError(.badValue, "limit must be an integer from 1 to 1000", field: "limit")
                }
                limit = number
            default:
                continue
            }
        }
    }

    private static func time(_ text: String, _ name: String) throws(LedgerError) -> Timestamp {
        guard let time = Timestamp(rfc3339: text) else {
            throw LedgerError(.badValue, "\(name) must be an RFC 3339 timestamp", field: name)
        }
        return time
    }

    /// Answers the query from `ledger`, which holds the log up to `seq` (the seq used).
    public func answer(from ledger: Ledger, seq: UInt64, now: Timestamp) throws(LedgerError) -> JSONObject {
        guard ledger.hasProgram(kind.program) else {
            throw LedgerError(.notFound, "no program \(kind.program) at seq \(seq)", field: "program")
        }
        switch kind {
        case .participant(let program, let id):
            return try ledger.participantView(program: program, participant: id, at: at ?? now)
        case .metrics(let program):
            var body = try ledger.metrics(program: program, from: from, to: to)
            // `as_of` goes after `to`: rebuild in the contract's order.
            var ordered = JSONObject()
            for (key, value) in body {
                ordered[key] = value
                if key == "to" { ordered["as_of"] = .integer(Int64(seq)) }
            }
            body = ordered
            return body
        case .leaderboard(let program):
            return try ledger.leaderboard(program: program, by: by, limit: limit)
        }
    }
}
