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

    /// The participant with this id, if there is one.
    subscript(id: String) -> Participant? {
        guard let position = positions[id] else { return nil }
        return values[position]
    }

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
        let position = ids.count
        let previous = positions.updateValue(position, forKey: id)
        precondition(previous == nil, "participant \(id) added twice")
        ids.append(id)
        values.append(member)
        return position
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
