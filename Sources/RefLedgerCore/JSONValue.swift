/// A sum of amounts: balances, totals, revenue, cost. One amount is at most 2^53 − 1, but
/// their sums have no bound in the contract; 128 bits hold more than 2^74 maximal amounts.
public typealias Money = Int128

/// A JSON value as refledger reads and writes it.
///
/// Numbers keep only what the contract allows: an integer in 0 … 2^53−1. Any other number
/// literal (negative, with a fraction or an exponent, or too large) parses as
/// `.invalidNumber`, so that decoding can report `bad_value` for it at the right stage.
public enum JSONValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case invalidNumber
    case bool(Bool)
    case null
    case object(JSONObject)
    case array([JSONValue])
    /// A number literal written as given (query answers: ratios, seconds); never parsed.
    case number(String)

    /// A sum of money in an answer: an integer, however large it grew.
    public static func money(_ value: Money) -> JSONValue {
        if let small = Int64(exactly: value) { return .integer(small) }
        return .number(String(value))
    }

    /// The largest integer a fact may hold: 2^53 − 1.
    public static let maxInteger: Int64 = 9_007_199_254_740_991

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, when this is one.
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The object, when this is one.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }
}

/// A JSON object: members in the order they were written (or built), keys unique.
///
/// Equality ignores member order, as JSON objects do.
public struct JSONObject: Sendable, Hashable, Sequence {
    /// The members, in insertion order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() { members = [] }

    /// An object of the given members; later duplicates replace earlier ones.
    public init(_ members: [(String, JSONValue)]) {
        self.members = []
        for (key, value) in members { self[key] = value }
    }

    /// An object of members whose keys the caller knows to be unique (the parser checked).
    init(uniqueMembers: [(key: String, value: JSONValue)]) { members = uniqueMembers }

    /// Appends a member whose key the caller knows to be absent.
    mutating func appendNew(_ key: String, _ value: JSONValue) {
        assert(self[key] == nil, "appendNew(\(key)) on an object that has it")
        members.append((key, value))
    }

    /// Makes room for `count` members without reallocating.
    public mutating func reserveCapacity(_ count: Int) { members.reserveCapacity(count) }

    /// The member named `key`; setting `nil` removes it, setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            // Lengths first: comparing two different strings costs far more than their
            // lengths, and most member names differ in length.
            // By index: a loop over the members would copy (retain and release) each one.
            let length = key.utf8.count
            for index in members.indices where members[index].key.utf8.count == length && members[index].key == key {
                return members[index].value
            }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// Number of members.
    public var count: Int { members.count }

    /// The keys, in insertion order.
    public var keys: [String] { members.map(\.key) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    /// The members sorted by key as RFC 8785 orders them (UTF-16 code units).
    public var sortedMembers: [(key: String, value: JSONValue)] {
        withSortedMemberIndices { members, order in order.map { members[$0] } }
    }

    /// Calls `body` with the members and their indices in RFC 8785 key order, sorted on the
    /// stack (objects here have a handful of members).
    func withSortedMemberIndices<R>(
        _ body: ([(key: String, value: JSONValue)], UnsafeMutableBufferPointer<Int>) throws -> R
    ) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: members.count) { order in
            for index in 0..<members.count {
                // Insertion sort: stable, and fast for the few members an event has.
                var slot = index
                while slot > 0, CanonicalJSON.keyPrecedes(members[index].key, members[order[slot - 1]].key) {
                    order[slot] = order[slot - 1]
                    slot -= 1
                }
                order[slot] = index
            }
            return try body(members, order)
        }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for member in lhs.members where rhs[member.key] != member.value { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for member in sortedMembers {
            hasher.combine(member.key)
            hasher.combine(member.value)
        }
    }
}
