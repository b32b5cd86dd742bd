extension Ledger {
    /// Why snapshot bytes could not be read back into a ledger: where, and what was wrong.
    public struct SnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The byte offset at which the damage was found.
        public var offset: Int
        /// What was wrong, for a person.
        public var reason: String

        /// Makes an error.
        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }

        /// The reason and its offset.
        public var description: String { "snapshot damaged at byte \(offset): \(reason)" }
    }

    /// The snapshot format this code writes and reads; a change to the layout bumps it.
    public static let snapshotFormatVersion: UInt64 = 1
    private static let snapshotMagic = Array("RLSN".utf8)

    /// The whole state (the head and every program), as compact versioned bytes that
    /// ``init(snapshot:sha256:)`` reads back; the hasher is not state and is not included.
    ///
    /// Deterministic: every map is written in ascending key order, so equal states give equal
    /// bytes. References between participants, codes, clicks, orders and payouts are written
    /// as indexes into the program's sorted participants.
    ///
    /// `fork` may write the two large sections of each program at the same time (as
    /// ``init(snapshot:sha256:fork:)`` reads them); the bytes are the same either way.
    public func snapshotBytes(fork: Fork = oneAfterTheOther) -> [UInt8] {
        let estimate = programs.values.reduce(64) { $0 + $1.estimatedSnapshotBytes }
        var encoder = SnapshotEncoder(capacity: estimate)
        for byte in Self.snapshotMagic { encoder.byte(byte) }
        encoder.unsigned(Self.snapshotFormatVersion)
        encoder.unsigned(head)
        encoder.count(programs.count)
        for name in programs.keys.sorted() { programs[name]!.encode(into: &encoder, fork: fork) }
        return encoder.bytes
    }

    /// Runs two pieces of work and returns once both have returned: on two threads, or one
    /// after the other. Decoding a snapshot reads the two large sections of each program
    /// (the participants, and the codes, clicks, orders and payouts that refer to them) so.
    public typealias Fork =
        @Sendable (_ first: @escaping @Sendable () -> Void, _ second: @escaping @Sendable () -> Void)
        -> Void

    /// A ``Fork`` that runs the second piece of work after the first, on the calling thread.
    public static let oneAfterTheOther: Fork = { first, second in
        first()
        second()
    }

    /// The ledger that ``snapshotBytes(fork:)`` wrote, with `sha256` as its hasher; `fork` may read
    /// the sections of a program at the same time.
    ///
    /// - Throws: ``SnapshotError`` for bytes that are truncated, damaged, of another format
    ///   version, or describe an inconsistent state (a reference to a participant, reward or
    ///   click owner that is not there, keys out of order). It never traps on any input.
    public init(snapshot bytes: [UInt8], sha256: @escaping Hasher, fork: Fork = oneAfterTheOther) throws(SnapshotError)
    {
        self.init(sha256: sha256)
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SnapshotError) in try self.read(SnapshotDecoder(buffer), fork: fork) }
        }
        (head, programs) = try result.get()
    }

    /// The head and programs of a snapshot.
    private func read(
        _ decoder: SnapshotDecoder,
        fork: Fork
    ) throws(SnapshotError) -> (UInt64, KeyedTable<ProgramState>) {
        var decoder = decoder
        for byte in Self.snapshotMagic {
            guard try decoder.byte() == byte else { throw decoder.damage("not a ledger snapshot") }
        }
        let version = try decoder.unsigned()
        guard version == Self.snapshotFormatVersion else {
            throw decoder.damage("snapshot format \(version); this refledger reads \(Self.snapshotFormatVersion)")
        }
        let head = try decoder.unsigned()
        let count = try decoder.count()
        var programs = KeyedTable<ProgramState>()
        programs.reserveCapacity(count)
        var previous: String?
        for _ in 0..<count {
            let program = try ProgramState(from: &decoder, fork: fork)
            try decoder.expectAscending(program.name, after: previous)
            previous = program.name
            // New: names come strictly ascending.
            _ = programs.addIfAbsent(program, forKey: program.name)
        }
        try decoder.expectEnd(of: "the snapshot")
        return (head, programs)
    }

    /// Gives this ledger storage of its own where a copy of it (the copy a snapshot is encoded
    /// from) would otherwise make a mutation copy a whole large collection: each table's index
    /// is copied now, so the cost of keeping a copy is paid at once, at a known moment. The
    /// tables' keys and values are in chunks (``ChunkedArray``), each copied at its first change
    /// for what that one chunk costs; what no fact changes while the copy lives is never copied.
    public mutating func detach() {
        programs.detach()
        for index in 0..<programs.count { programs[at: index].detach() }
    }
}

extension ProgramState {
    /// Copies each of the program's tables' index now (``Ledger/detach()``).
    mutating func detach() {
        participants.detach()
        codeOwners.detach()
        clicksByVisitor.detach()
        orders.detach()
        payouts.detach()
    }
}

extension ProgramState {
    /// A guess at the snapshot size, to allocate the buffer once.
    var estimatedSnapshotBytes: Int {
        256 + participants.count * 96 + codeOwners.count * 16 + clicksByVisitor.count * 32 + orders.count * 32
            + payouts.count * 24 + timeToConvertMillis.count * 4
    }

    /// Writes the program: its name and rules; its participants' ids (ascending) with their
    /// reward counts; then two sections, the participants and what refers to them (codes,
    /// clicks, orders, payouts, with participants as indexes into those ids), each written
    /// through `fork`; then its totals.
    func encode(into encoder: inout SnapshotEncoder, fork: Ledger.Fork) {
        encoder.string(name)
        rules.encode(into: &encoder)
        // Sorted through positions: no participant (large) is moved or looked up by its id again.
        // A reference is the participant's index in id order (its position once decoded).
        let ids = participants.ids
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        let indexOfPosition = {
            var indexes = [Int](repeating: 0, count: order.count)
            for (index, position) in order.enumerated() { indexes[position] = index }
            return indexes
        }()

        encoder.count(order.count)
        for position in order {
            encoder.string(ids[position])
            encoder.count(participants[at: position].rewards.count)
        }
        let people = ForkResult<[UInt8]>()
        let links = ForkResult<[UInt8]>()
        fork(
            { [self] in people.set { peopleSection(order: order, indexOfPosition: indexOfPosition) } },
            { [self] in links.set { linksSection(indexOfPosition: indexOfPosition) } }
        )
        guard let peopleBytes = try? people.get(), let linkBytes = try? links.get() else {
            preconditionFailure("a fork returned before running both of its pieces of work")
        }
        encoder.section(bytes: peopleBytes)
        encoder.section(bytes: linkBytes)
        totals.encode(into: &encoder)
        encoder.signed(activeReferrers)
        timeToConvertMillis.encode(into: &encoder)
    }

    /// The participants, in id order.
    private func peopleSection(order: [Member], indexOfPosition: [Int]) -> [UInt8] {
        var encoder = SnapshotEncoder(capacity: participants.count * 64)
        for position in order {
            let member = participants[at: position]
            member.encode(into: &encoder, referrer: member.referrer.map { indexOfPosition[$0] })
        }
        return encoder.bytes
    }

    /// What refers to participants: codes, clicks, orders, payouts.
    private func linksSection(indexOfPosition: [Int]) -> [UInt8] {
        func reference(_ position: Member?) -> Int? { position.map { indexOfPosition[$0] } }
        var encoder = SnapshotEncoder(capacity: (codeOwners.count + clicksByVisitor.count + orders.count) * 24)
        encoder.map(codeOwners) { encoder, owner in encoder.reference(reference(owner)) }
        encoder.map(clicksByVisitor) { encoder, clicks in
            encoder.count(clicks.count)
            for click in clicks {
                encoder.time(click.time)
                encoder.unsigned(click.seq)
                encoder.reference(reference(click.owner))
            }
        }
        encoder.map(orders) { encoder, order in
            encoder.reference(reference(order.participant))
            encoder.signed(order.amount)
            encoder.signed(order.refunded)
            encoder.count(order.rewards.count)
            for link in order.rewards {
                encoder.reference(reference(link.participant))
                encoder.count(link.index)
            }
        }
        encoder.map(payouts) { encoder, payout in
            encoder.reference(reference(payout.participant))
            encoder.signed(payout.amount)
            encoder.tag(payout.state)
        }
        return encoder.bytes
    }

    /// Reads what ``encode(into:)`` wrote, the two sections through `fork`.
    init(from decoder: inout SnapshotDecoder, fork: Ledger.Fork) throws(Ledger.SnapshotError) {
        self.init(name: try decoder.string(), rules: try Rules(from: &decoder))
        let memberCount = try decoder.count(minimumBytes: 21)
        var ids: [String] = []
        var rewardCounts: [Int] = []
        ids.reserveCapacity(memberCount)
        rewardCounts.reserveCapacity(memberCount)
        for _ in 0..<memberCount {
            let id = try decoder.string()
            try decoder.expectAscending(id, after: ids.last)
            ids.append(id)
            rewardCounts.append(try decoder.count(minimumBytes: 4))
        }
        let people = SnapshotSection(bytes: decoder.bytes, range: try decoder.section())
        let references = SnapshotSection(bytes: decoder.bytes, range: try decoder.section())
        let members = ForkResult<ParticipantTable>()
        let links = ForkResult<Links>()
        fork(
            { [ids, rewardCounts] in
                members.set { () throws(Ledger.SnapshotError) in
                    try Self.participants(from: people.decoder, ids: ids, rewardCounts: rewardCounts)
                }
            },
            { [ids, rewardCounts] in
                links.set { () throws(Ledger.SnapshotError) in
                    try Links(from: references.decoder, ids: ids, rewardCounts: rewardCounts)
                }
            }
        )
        participants = try members.get()
        (codeOwners, clicksByVisitor, orders, payouts) = try links.get().maps
        totals = try MemberStats(from: &decoder)
        activeReferrers = try decoder.nonNegative()
        timeToConvertMillis = try OrderStatistics(from: &decoder)
    }

    /// The participants section: each participant in the order of `ids`, so that a
    /// participant's position is its index there (what references hold).
    private static func participants(
        from decoder: SnapshotDecoder,
        ids: [String],
        rewardCounts: [Int]
    ) throws(Ledger.SnapshotError) -> ParticipantTable {
        var decoder = decoder
        var participants = ParticipantTable()
        participants.reserveCapacity(ids.count)
        for index in ids.indices {
            // The ids were checked to ascend strictly: none is added twice.
            participants.add(
                try Participant(from: &decoder, rewardCount: rewardCounts[index], members: ids.count),
                id: ids[index]
            )
        }
        try decoder.expectEnd(of: "the participants")
        return participants
    }

    /// The section of what refers to participants: codes, clicks, orders and payouts.
    private struct Links: Sendable {
        var maps: (KeyedTable<Member>, KeyedTable<[Click]>, KeyedTable<Order>, KeyedTable<Payout>)

        init(from decoder: SnapshotDecoder, ids: [String], rewardCounts: [Int]) throws(Ledger.SnapshotError) {
            var decoder = decoder
            // A participant's index in `ids` is its position (see `participants(from:ids:rewardCounts:)`).
            func member(_ decoder: inout SnapshotDecoder) throws(Ledger.SnapshotError) -> Member {
                try decoder.requiredReference(into: ids.count)
            }
            let codeOwners = try decoder.map(minimumEntryBytes: 2) { decoder, _ throws(Ledger.SnapshotError) in
                try member(&decoder)
            }
            let clicksByVisitor = try decoder.map(minimumEntryBytes: 2) { decoder, _ throws(Ledger.SnapshotError) in
                let count = try decoder.count(minimumBytes: 3)
                var clicks: [Click] = []
                clicks.reserveCapacity(count)
                for _ in 0..<count {
                    let time = try decoder.time()
                    let seq = try decoder.unsigned()
                    clicks.append(Click(time: time, seq: seq, owner: try member(&decoder)))
                }
                return clicks
            }
            let orders = try decoder.map(minimumEntryBytes: 5) { decoder, id throws(Ledger.SnapshotError) in
                let buyer = try member(&decoder)
                var order = Order(participant: buyer, amount: try decoder.amount(), refunded: try decoder.amount())
                let linkCount = try decoder.count(minimumBytes: 2)
                order.rewards.reserveCapacity(linkCount)
                for _ in 0..<linkCount {
                    let beneficiary = try member(&decoder)
                    let index = try decoder.unsigned()
                    guard index < UInt64(rewardCounts[beneficiary]) else {
                        throw decoder.damage("order \(id) links reward \(index) of \(ids[beneficiary]), who has fewer")
                    }
                    order.rewards.append((beneficiary, Int(index)))
                }
                return order
            }
            let payouts = try decoder.map(minimumEntryBytes: 4) { decoder, _ throws(Ledger.SnapshotError) in
                let owner = try member(&decoder)
                let amount = try decoder.amount()
                return Payout(participant: owner, amount: amount, state: try decoder.tag(Payout.State.self))
            }
            try decoder.expectEnd(of: "the references to participants")
            maps = (codeOwners, clicksByVisitor, orders, payouts)
        }
    }
}

/// A section of snapshot bytes handed to work a ``Ledger/Fork`` runs. Unchecked: the bytes are
/// only read, and their owner keeps them alive until the fork returned.
struct SnapshotSection: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let range: Range<Int>

    var decoder: SnapshotDecoder { SnapshotDecoder(bytes, range: range) }
}

/// What one piece of work a ``Ledger/Fork`` runs hands back. Unchecked: the work sets it
/// once, and the caller reads it only after the fork returned, which is after the work ended.
final class ForkResult<Value: Sendable>: @unchecked Sendable {
    private var result: Result<Value, Ledger.SnapshotError>?

    func set(_ body: () throws(Ledger.SnapshotError) -> Value) { result = Result(catching: body) }

    func get() throws(Ledger.SnapshotError) -> Value {
        guard let result else {
            throw Ledger.SnapshotError(offset: 0, reason: "the fork did not run every piece of work")
        }
        return try result.get()
    }
}
