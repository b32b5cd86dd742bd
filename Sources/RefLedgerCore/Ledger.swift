/// The referral ledger: one state machine for ingest, replay, import and verify.
///
/// `apply` takes the next fact, decides everything the contract asks of it (attribution,
/// codes, reference rules, rewards, reversals) and returns the stored events it becomes —
/// the fact at `head + 1`, its derived events after it — or throws a `LedgerError` and
/// leaves the state exactly as it was. The ledger never writes anything; the caller does.
public struct Ledger: Sendable {
    /// SHA-256 of the given bytes; injected so that Core stays free of crypto libraries.
    public typealias Hasher = @Sendable ([UInt8]) -> [UInt8]

    /// The programs by name (a ``KeyedTable``: every fact finds its program, and a
    /// `Dictionary` hashed the name with SipHash for each, ~4% of apply).
    var programs = KeyedTable<ProgramState>()
    let sha256: Hasher
    /// The seq of the last event applied (0 for an empty log).
    public internal(set) var head: UInt64 = 0
    /// Whether ``cut(after:derived:)`` took back events of the last fact: such a ledger
    /// answers queries as of its head but applies no further fact.
    public internal(set) var isCut = false
    /// The last `recorded_at` written out: facts of one commit share it.
    private var lastRecordedAt: (time: Timestamp, text: String)?

    /// An empty ledger (an empty log).
    public init(sha256: @escaping Hasher) { self.sha256 = sha256 }

    /// Applies `fact` as the next event of the log, recorded at `recordedAt`.
    ///
    /// - Returns: the stored fact followed by the events it derived, with consecutive seqs.
    /// - Throws: the first state rule the fact breaks (SPEC §2 stage 3); nothing changes then.
    public mutating func apply(_ fact: Fact, recordedAt: Timestamp) throws(LedgerError) -> [StoredEvent] {
        // A cut ledger lacks events of its last fact: whatever came next would be wrong.
        precondition(!isCut, "a ledger cut inside a derivation applies no further fact")
        do {
            let events = try applyChecked(fact, recordedAt: recordedAt)
            head += UInt64(events.count)
            return events
        } catch {
            var error = error
            error.id = fact.id
            throw error
        }
    }

    /// Starts bringing into the cache where `fact`'s look-ups will begin (its participant's,
    /// code's, visitor's, order's and payout's index slots), without changing anything.
    ///
    /// In a large program each of those look-ups first waits on memory, a third of applying a
    /// fact. Whoever applies a run of facts calls this for the next one before applying the
    /// current one, so that the waiting overlaps the work.
    public func prefetch(_ fact: Fact) {
        guard let index = programs.position(of: fact.program) else { return }
        // The keys are hashed first, then the slots' addresses read, then the hints given: a
        // call the compiler cannot see into (the hash, the C hint) made while the program's
        // state was borrowed made it copy the whole state first, more than prefetching gains.
        let hashes = PrefetchHashes(fact.payload)
        programs[at: index].slotAddresses(hashes).prefetch()
    }

    private mutating func applyChecked(_ fact: Fact, recordedAt: Timestamp) throws(LedgerError) -> [StoredEvent] {
        if lastRecordedAt?.time != recordedAt { lastRecordedAt = (recordedAt, recordedAt.description) }
        var context = Derivation(fact: fact, seq: head + 1, recordedAtText: lastRecordedAt!.text)
        if case .program(let rules) = fact.payload {
            try applyProgram(fact, rules: rules)
            return [context.stored]
        }
        guard let index = programs.position(of: fact.program) else {
            throw LedgerError(.unknownProgram, "program \(fact.program) has no program fact yet", field: "program")
        }
        try programs.update(at: index) { (program) throws(LedgerError) in
            try program.apply(fact, context: &context, sha256: sha256)
        }
        guard !context.derived.isEmpty else { return [context.stored] }
        var events: [StoredEvent] = []
        events.reserveCapacity(1 + context.derived.count)
        events.append(context.stored)
        events.append(contentsOf: context.derived)
        return events
    }

    private mutating func applyProgram(_ fact: Fact, rules: Rules) throws(LedgerError) {
        guard let index = programs.position(of: fact.program) else {
            _ = programs.addIfAbsent(ProgramState(name: fact.program, rules: rules), forKey: fact.program)
            return
        }
        let currency = programs[at: index].rules.currency
        guard currency == rules.currency else {
            throw LedgerError(
                .currencyMismatch,
                "program \(fact.program) is in \(currency); its currency cannot change to \(rules.currency)",
                field: "rules.currency"
            )
        }
        programs[at: index].rules = rules
    }

    static func unknownParticipant(_ id: String) -> LedgerError {
        LedgerError(.unknownParticipant, "no participant \(id) in this program", field: "participant")
    }
}

/// The hashes of the keys a fact will be looked up by in its program's tables (codes
/// lower-cased, as they are kept), for ``Ledger/prefetch(_:)``.
struct PrefetchHashes {
    var participant: UInt32?
    var code: UInt32?
    var referrerCode: UInt32?
    var visitor: UInt32?
    var order: UInt32?
    var payout: UInt32?

    /// At most three slot addresses (a fact has at most three keys), kept inline: no list is
    /// allocated per fact.
    struct Addresses {
        private var slots: (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?) = (nil, nil, nil)

        @inline(__always) mutating func append(_ address: UnsafeRawPointer) {
            if slots.0 == nil {
                slots.0 = address
            } else if slots.1 == nil {
                slots.1 = address
            } else {
                assert(slots.2 == nil, "a fact has at most three keys")
                slots.2 = address
            }
        }

        /// Gives each address to ``prefetchCacheLine(_:)``.
        func prefetch() {
            if let address = slots.0 { prefetchCacheLine(address) }
            if let address = slots.1 { prefetchCacheLine(address) }
            if let address = slots.2 { prefetchCacheLine(address) }
        }
    }

    init(_ payload: FactPayload) {
        func hash(_ key: String) -> UInt32 { PositionIndex.hash(key) }
        switch payload {
        case .program: break
        case .signup(let participant, let code, let referrerCode, let visitor):
            self.participant = hash(participant)
            self.code = code.map { hash($0.asciiLowercased) }
            if let referrerCode {
                self.referrerCode = hash(referrerCode.asciiLowercased)
            } else {
                self.visitor = visitor.map(hash)
            }
        case .invite(let participant, _, _):
            self.participant = hash(participant)
        case .click(let code, let visitor, _):
            self.code = hash(code.asciiLowercased)
            self.visitor = hash(visitor)
        case .conversion(let participant, let order, _, _):
            self.participant = hash(participant)
            self.order = hash(order)
        case .refund(let order, _):
            self.order = hash(order)
        case .payout(let participant, let payout, _, _):
            self.participant = hash(participant)
            self.payout = hash(payout)
        case .payoutSettled(let payout), .payoutFailed(let payout, _):
            self.payout = hash(payout)
        }
    }
}

/// The events one fact becomes, built up as it is applied.
struct Derivation {
    /// The fact's id, program and time.
    let factID: String
    let program: String
    let time: Timestamp
    let seq: UInt64
    /// `recorded_at`, written out once for all the fact's events.
    let recordedAtText: String
    var stored: StoredEvent
    var derived: [StoredEvent] = []

    /// Borrows the fact: an initializer's parameters are otherwise passed owned, which made a
    /// copy of the whole fact (every field retained) for each one applied.
    init(fact: borrowing Fact, seq: UInt64, recordedAtText: String) {
        factID = fact.id
        program = fact.program
        time = fact.time
        self.seq = seq
        self.recordedAtText = recordedAtText
        stored = StoredEvent(
            clientFields: fact.clientFields,
            canonicalClient: fact.canonicalClient,
            seq: seq,
            recordedAtText: recordedAtText
        )
    }

    /// The fact's `time` as stored, which its derived events repeat: read from the stored
    /// fact when an event is derived (most facts derive none).
    private var timeText: String { stored.string("time") ?? time.description }

    /// The id and seq the next derived event gets.
    var nextDerived: (id: String, seq: UInt64) {
        (factID + "/" + String(derived.count + 1), seq + UInt64(derived.count) + 1)
    }

    /// Appends a derived event of `type` with the given type-specific members (none of them
    /// an envelope member).
    mutating func derive(_ type: DerivedType, _ members: [(String, JSONValue)]) {
        let (id, eventSeq) = nextDerived
        var fields = JSONObject()
        fields.reserveCapacity(members.count + 7)
        for (key, value) in members { fields.appendNew(key, value) }
        fields.appendNew("id", .string(id))
        fields.appendNew("seq", .integer(Int64(eventSeq)))
        fields.appendNew("type", .string(type.rawValue))
        fields.appendNew("program", .string(program))
        fields.appendNew("time", .string(timeText))
        fields.appendNew("cause", .string(factID))
        fields.appendNew("recorded_at", .string(recordedAtText))
        derived.append(StoredEvent(fields: fields))
    }
}

extension String {
    /// The string with ASCII letters lower-cased (codes compare case-insensitively, ASCII).
    var asciiLowercased: String {
        func isUpper(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
        var text = self
        return text.withUTF8 { bytes in
            guard bytes.contains(where: isUpper) else { return self }
            return String(unsafeUninitializedCapacity: bytes.count) { output in
                for index in bytes.indices { output[index] = isUpper(bytes[index]) ? bytes[index] + 32 : bytes[index] }
                return bytes.count
            }
        }
    }
}

extension ProgramState {
    /// See ``Ledger/prefetch(_:)``: where the index slots of the keys hashed are.
    @inline(__always) func slotAddresses(_ hashes: PrefetchHashes) -> PrefetchHashes.Addresses {
        var addresses = PrefetchHashes.Addresses()
        if let hash = hashes.participant { addresses.append(participants.slotAddress(hash: hash)) }
        if let hash = hashes.code { addresses.append(codeOwners.slotAddress(hash: hash)) }
        if let hash = hashes.referrerCode { addresses.append(codeOwners.slotAddress(hash: hash)) }
        if let hash = hashes.visitor { addresses.append(clicksByVisitor.slotAddress(hash: hash)) }
        if let hash = hashes.order { addresses.append(orders.slotAddress(hash: hash)) }
        if let hash = hashes.payout { addresses.append(payouts.slotAddress(hash: hash)) }
        return addresses
    }

    /// Applies a fact of this program (any but `program`): its reference rules, then what it
    /// changes and derives. Mutated in place in the ledger's programs: no copy of the state.
    mutating func apply(_ fact: Fact, context: inout Derivation, sha256: Ledger.Hasher) throws(LedgerError) {
        switch fact.payload {
        case .program: break
        case .signup(let participant, let code, let referrerCode, let visitor):
            try signup(
                participant: participant,
                code: code,
                referrerCode: referrerCode,
                visitor: visitor,
                context: &context,
                sha256: sha256
            )
        case .invite(let participant, _, _):
            guard let member = participants.position(of: participant) else {
                throw Ledger.unknownParticipant(participant)
            }
            adjustStats(at: member) { $0.invites += 1 }
        case .click(let code, let visitor, _):
            guard let owner = codeOwners[code.asciiLowercased] else {
                throw LedgerError(.unknownCode, "no participant of \(name) has code \(code)", field: "code")
            }
            let clicks = clicksByVisitor.position(addingIfAbsent: visitor) { [] }
            clicksByVisitor[at: clicks].append(Click(time: fact.time, seq: context.seq, owner: owner))
            adjustStats(at: owner) { $0.clicks += 1 }
        case .conversion(let participant, let order, let amount, let currency):
            try convert(
                participant: participant,
                order: order,
                amount: amount,
                currency: currency,
                context: &context
            )
        case .refund(let order, let amount):
            try refund(order: order, amount: amount, context: &context)
        case .payout(let participant, let payout, let amount, let currency):
            try self.payout(
                participant: participant,
                payout: payout,
                amount: amount,
                currency: currency,
                at: fact.time
            )
        case .payoutSettled(let payout):
            try finishPayout(payout, settled: true)
        case .payoutFailed(let payout, _):
            try finishPayout(payout, settled: false)
        }
    }
}
