/// A program's participants: each stored once, in the order they were added, and found by id
/// through a small index of positions.
///
/// Participants are large (256 bytes) and most of a ledger's state. In a `[String:
/// Participant]` every growth of the table re-hashed each id and moved each participant into
/// fresh memory; here growth moves the array (one contiguous copy) and re-hashes ids that map
/// to a position only. Code that reads or writes several fields of one participant finds it
/// once (``position(of:)``) and then works on ``subscript(at:)`` in place.
///
/// Participants are never removed. The order is the order of adding, which no answer depends
/// on: what must be ordered (snapshots, leaderboards, id lists) sorts by id.
struct ParticipantTable: Sendable, Sequence {
    /// The ids, by position.
    private(set) var ids: [String] = []
    /// The participants, by position.
    private(set) var values: [Participant] = []
    private var positions: [String: Int] = [:]

    init() {}

    var count: Int { ids.count }

    /// The participant at `position`, read or changed in place.
    subscript(at position: Int) -> Participant {
        get { values[position] }
        _modify { yield &values[position] }
    }

    /// Where the participant with this id is, if there is one.
    func position(of id: String) -> Int? { positions[id] }

    /// Adds a participant whose id is not in the table yet, and returns its position.
    @discardableResult
    mutating func add(_ member: Participant, id: String) -> Int {
        guard let position = addIfAbsent(member, id: id) else { preconditionFailure("participant \(id) added twice") }
        return position
    }

    /// Adds a participant unless the table has one with this id: its position, or nil when
    /// the id was there (and nothing changed). One look-up of the id for both.
    mutating func addIfAbsent(_ member: Participant, id: String) -> Int? {
        guard positions.insertIfAbsent(ids.count, forKey: id) else { return nil }
        ids.append(id)
        values.append(member)
        return ids.count - 1
    }

    mutating func reserveCapacity(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
    }

    /// Gives this table storage of its own now, rather than at its first change (see
    /// ``Ledger/detach()``).
    mutating func detach() { reserveCapacity(count) }

    func makeIterator() -> Zip2Sequence<[String], [Participant]>.Iterator { zip(ids, values).makeIterator() }
}

extension Dictionary {
    /// Stores `value` under `key` unless the key is there already; whether it did. One hash
    /// look-up for both the check and the insert.
    mutating func insertIfAbsent(_ value: Value, forKey key: Key) -> Bool {
        var inserted = false
        Self.access(
            &self[
                key,
                default: {
                    inserted = true
                    return value
                }()
            ]
        )
        return inserted
    }

    /// Takes a value by `inout`, so that the subscript above is accessed for a change: its
    /// default is then stored.
    @inline(__always) private static func access(_ value: inout Value) {}
}
