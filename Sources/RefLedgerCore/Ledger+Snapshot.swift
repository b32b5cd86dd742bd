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
    public func snapshotBytes() -> [UInt8] {
        let estimate = programs.values.reduce(64) { $0 + $1.estimatedSnapshotBytes }
        var encoder = SnapshotEncoder(capacity: estimate)
        for byte in Self.snapshotMagic { encoder.byte(byte) }
        encoder.unsigned(Self.snapshotFormatVersion)
        encoder.unsigned(head)
        encoder.count(programs.count)
        for name in programs.keys.sorted() { programs[name]!.encode(into: &encoder) }
        return encoder.bytes
    }

    /// The ledger that ``snapshotBytes()`` wrote, with `sha256` as its hasher.
    ///
    /// - Throws: ``SnapshotError`` for bytes that are truncated, damaged, of another format
    ///   version, or describe an inconsistent state (a reference to a participant, reward or
    ///   click owner that is not there, keys out of order). It never traps on any input.
    public init(snapshot bytes: UnsafeRawBufferPointer, sha256: @escaping Hasher) throws(SnapshotError) {
        var decoder = SnapshotDecoder(bytes)
        for byte in Self.snapshotMagic {
            guard try decoder.byte() == byte else { throw decoder.damage("not a ledger snapshot") }
        }
        let version = try decoder.unsigned()
        guard version == Self.snapshotFormatVersion else {
            throw decoder.damage("snapshot format \(version); this refledger reads \(Self.snapshotFormatVersion)")
        }
        self.init(sha256: sha256)
        head = try decoder.unsigned()
        let count = try decoder.count()
        var previous: String?
        programs.reserveCapacity(count)
        for _ in 0..<count {
            let program = try ProgramState(from: &decoder)
            try decoder.expectAscending(program.name, after: previous)
            previous = program.name
            programs[program.name] = program
        }
        guard decoder.isAtEnd else { throw decoder.damage("\(bytes.count - decoder.offset) bytes after the end") }
    }

    /// The ledger that ``snapshotBytes()`` wrote; see ``init(snapshot:sha256:)``.
    public init(snapshot bytes: [UInt8], sha256: @escaping Hasher) throws(SnapshotError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SnapshotError) in try Ledger(snapshot: buffer, sha256: sha256) }
        }
        self = try result.get()
    }

    /// Gives this ledger storage of its own, copying now every collection it shares with a
    /// copy of it (the copy a snapshot is encoded from), rather than at the first mutation of
    /// each: so the cost of keeping a copy is paid at once, at a known moment.
    public mutating func detach() {
        for name in Array(programs.keys) {
            var program = programs.removeValue(forKey: name)!
            program.participants.reserveCapacity(program.participants.count)
            program.codeOwners.reserveCapacity(program.codeOwners.count)
            program.clicksByVisitor.reserveCapacity(program.clicksByVisitor.count)
            program.orders.reserveCapacity(program.orders.count)
            program.payouts.reserveCapacity(program.payouts.count)
            programs[name] = program
        }
    }
}

extension ProgramState {
    /// A guess at the snapshot size, to allocate the buffer once.
    var estimatedSnapshotBytes: Int {
        256 + participants.count * 96 + codeOwners.count * 16 + clicksByVisitor.count * 32 + orders.count * 32
            + payouts.count * 24 + timeToConvertMillis.count * 4
    }

    func encode(into encoder: inout SnapshotEncoder) {
        encoder.string(name)
        rules.encode(into: &encoder)
        // Sorted by id through their positions, so that neither the participants (large) are
        // moved nor each one looked up again by its id.
        let unsortedIDs = Array(participants.keys)
        let members = Array(participants.values)
        let order = unsortedIDs.indices.sorted { unsortedIDs[$0] < unsortedIDs[$1] }
        var indexOf: [String: Int] = [:]
        indexOf.reserveCapacity(order.count)
        for (index, position) in order.enumerated() { indexOf[unsortedIDs[position]] = index }
        func reference(_ id: String?) -> Int? {
            guard let id else { return nil }
            assert(indexOf[id] != nil, "\(id) is referenced but is not a participant of \(name)")
            return indexOf[id]
        }

        encoder.count(order.count)
        for position in order { members[position].encode(into: &encoder, referrer: reference(members[position].referrer)) }
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
        totals.encode(into: &encoder)
        encoder.signed(activeReferrers)
        timeToConvertMillis.encode(into: &encoder)
    }

    init(from decoder: inout SnapshotDecoder) throws(Ledger.SnapshotError) {
        self.init(name: try decoder.string(), rules: try Rules(from: &decoder))
        // Participants first, in id order. A referrer is a reference into that order; one
        // that points forward is resolved once its id is known.
        let memberCount = try decoder.count(minimumBytes: 20)
        var ids: [String] = []
        var rewardCounts: [Int] = []
        var forwardReferrers: [(member: Int, referrer: Int)] = []
        ids.reserveCapacity(memberCount)
        rewardCounts.reserveCapacity(memberCount)
        participants.reserveCapacity(memberCount)
        for index in 0..<memberCount {
            var (member, referrer) = try Participant.decode(from: &decoder, participants: memberCount)
            try decoder.expectAscending(member.id, after: ids.last)
            if let referrer {
                if referrer < index { member.referrer = ids[referrer] } else { forwardReferrers.append((index, referrer)) }
            }
            ids.append(member.id)
            rewardCounts.append(member.rewards.count)
            participants[member.id] = member
        }
        for (member, referrer) in forwardReferrers { participants[ids[member]]!.referrer = ids[referrer] }

        func member(_ decoder: inout SnapshotDecoder) throws(Ledger.SnapshotError) -> Int {
            try decoder.requiredReference(into: memberCount)
        }
        codeOwners = try decoder.map(minimumEntryBytes: 2) { decoder, _ throws(Ledger.SnapshotError) in
            ids[try member(&decoder)]
        }
        clicksByVisitor = try decoder.map(minimumEntryBytes: 2) { decoder, _ throws(Ledger.SnapshotError) in
            let count = try decoder.count(minimumBytes: 3)
            var clicks: [Click] = []
            clicks.reserveCapacity(count)
            for _ in 0..<count {
                let time = try decoder.time()
                let seq = try decoder.unsigned()
                clicks.append(Click(time: time, seq: seq, owner: ids[try member(&decoder)]))
            }
            return clicks
        }
        orders = try decoder.map(minimumEntryBytes: 5) { decoder, id throws(Ledger.SnapshotError) in
            let buyer = ids[try member(&decoder)]
            var order = Order(participant: buyer, amount: try decoder.amount(), refunded: try decoder.amount())
            let linkCount = try decoder.count(minimumBytes: 2)
            order.rewards.reserveCapacity(linkCount)
            for _ in 0..<linkCount {
                let beneficiary = try member(&decoder)
                let index = try decoder.unsigned()
                guard index < UInt64(rewardCounts[beneficiary]) else {
                    throw decoder.damage("order \(id) links reward \(index) of \(ids[beneficiary]), who has fewer")
                }
                order.rewards.append((ids[beneficiary], Int(index)))
            }
            return order
        }
        payouts = try decoder.map(minimumEntryBytes: 4) { decoder, _ throws(Ledger.SnapshotError) in
            let owner = ids[try member(&decoder)]
            let amount = try decoder.amount()
            return Payout(participant: owner, amount: amount, state: try decoder.tag(Payout.State.self))
        }
        totals = try MemberStats(from: &decoder)
        activeReferrers = try decoder.nonNegative()
        timeToConvertMillis = try OrderStatistics(from: &decoder)
    }
}
