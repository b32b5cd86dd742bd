/// A program's participants: each stored once, in the order they were added, and found by id
/// through a small index of positions (``PositionIndex``).
///
/// Participants are large (256 bytes) and most of a ledger's state. In a `[String:
/// Participant]` every growth of the table re-hashed each id and moved each participant into
/// fresh memory; here a participant is never moved once added (``ChunkedArray``), and growth
/// rebuilds an index of 8-byte slots without reading an id. Code that reads or writes several
/// fields of one participant finds it once (``position(of:)``) and then works on
/// ``subscript(at:)`` in place.
///
/// Participants are never removed. The order is the order of adding, which no answer depends
/// on: what must be ordered (snapshots, leaderboards, id lists) sorts by id.
typealias ParticipantTable = KeyedTable<Participant>

extension KeyedTable where Value == Participant {
    /// The ids, by position.
    var ids: ChunkedArray<String> { keys }

    /// Adds a participant whose id is not in the table yet, and returns its position.
    @discardableResult
    mutating func add(_ member: Participant, id: String) -> Int {
        guard let position = addIfAbsent(member, id: id) else { preconditionFailure("participant \(id) added twice") }
        return position
    }

    /// Adds a participant unless the table has one with this id: its position, or nil when
    /// the id was there (and nothing changed). One look-up of the id for both.
    mutating func addIfAbsent(_ member: Participant, id: String) -> Int? { addIfAbsent(member, forKey: id) }
}
