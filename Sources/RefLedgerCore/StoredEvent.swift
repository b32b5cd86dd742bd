/// One event as the log holds it (SPEC §2 "Stored events"), without its chain members
/// `prev` and `hash`, which the store adds.
public struct StoredEvent: Sendable, Hashable {
    /// The members the event was made from: for a fact, its client fields (shared with the
    /// fact, not copied).
    private var base: JSONObject
    /// A fact's `seq` and `recorded_at`, the first members added to `base` (none of them in
    /// it): kept apart from `added` so that a fact without decisions allocates no list of
    /// members when the ledger applies it.
    private var stamp: (seq: UInt64, recordedAt: String)?
    /// Members added to `base` after `stamp`, in order and none of them in it: a signup's
    /// decisions.
    private var added: [(key: String, value: JSONValue)] = []
    /// The fact's canonical client fields (``FlatCanonical``), from which ``canonicalBody()``
    /// is written without the general encoder — when asked for (at commit, on every core), not
    /// when the fact is applied. Dropped when `fields` are replaced.
    private var canonicalClient: [UInt8]?

    /// Every member but `prev` and `hash`.
    public var fields: JSONObject {
        get {
            guard stamp != nil || !added.isEmpty else { return base }
            var all = base
            all.reserveCapacity(base.count + 2 + added.count)
            forEachAddedMember { all.appendNew($0, $1) }
            return all
        }
        set {
            base = newValue
            stamp = nil
            added = []
            canonicalClient = nil
        }
    }

    /// Calls `body` with every member added to `base`, in order: the stamp's, then `added`.
    private func forEachAddedMember(_ body: (String, JSONValue) -> Void) {
        if let stamp {
            body("seq", .integer(Int64(stamp.seq)))
            body("recorded_at", .string(stamp.recordedAt))
        }
        for (key, value) in added { body(key, value) }
    }

    /// Calls `body` with every member added to `base`, in order, side by side in a temporary
    /// buffer (what the flat canonical writer inserts).
    private func withAddedMembers<Result>(
        _ body: (UnsafeBufferPointer<(key: String, value: JSONValue)>) -> Result
    ) -> Result {
        let count = (stamp == nil ? 0 : 2) + added.count
        return withUnsafeTemporaryAllocation(of: (key: String, value: JSONValue).self, capacity: count) { members in
            var filled = 0
            forEachAddedMember { key, value in
                (members.baseAddress! + filled).initialize(to: (key, value))
                filled += 1
            }
            // An empty buffer may have no address: only a filled one is deinitialized.
            defer { if filled > 0 { _ = members.baseAddress!.deinitialize(count: filled) } }
            return body(UnsafeBufferPointer(rebasing: members[..<filled]))
        }
    }

    public init(fields: JSONObject) { base = fields }

    /// The stored form of a fact at `seq`, recorded at `recordedAt`: its client fields plus
    /// `seq` and `recorded_at`.
    public init(fact: Fact, seq: UInt64, recordedAt: Timestamp) {
        self.init(
            clientFields: fact.clientFields,
            canonicalClient: fact.canonicalClient,
            seq: seq,
            recordedAtText: recordedAt.description
        )
    }

    /// The stored form of a decoded fact — its client fields and their canonical bytes — with
    /// `recorded_at` already written out. A decoded fact has neither `seq` nor `recorded_at`
    /// (the decoder refuses unknown fields).
    init(clientFields: JSONObject, canonicalClient: [UInt8]?, seq: UInt64, recordedAtText: String) {
        base = clientFields
        stamp = (seq, recordedAtText)
        self.canonicalClient = canonicalClient
    }

    /// Adds a member the event does not have yet (a signup's decisions).
    mutating func add(_ key: String, _ value: JSONValue) {
        assert(member(key) == nil, "add(\(key)) to an event that has it")
        // Room for every decision a signup adds, at the first.
        if added.isEmpty { added.reserveCapacity(4) }
        added.append((key, value))
    }

    /// The string member named `key`, if there is one.
    func string(_ key: String) -> String? { member(key)?.stringValue }

    /// The member named `key`, if any: looked up in place, without building ``fields``.
    public func member(_ key: String) -> JSONValue? {
        if let stamp {
            if key == "seq" { return .integer(Int64(stamp.seq)) }
            if key == "recorded_at" { return .string(stamp.recordedAt) }
        }
        for (name, value) in added where name == key { return value }
        return base[key]
    }

    /// Parses a stored event's canonical JSON (with or without `prev` and `hash`).
    public init(parsing bytes: [UInt8]) throws(LedgerError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw LedgerError(.badJSON, "stored event is not valid JSON: \(error.message)")
        }
        guard case .object(var object) = value else { throw LedgerError(.badJSON, "stored event is not an object") }
        object["prev"] = nil
        object["hash"] = nil
        base = object
    }

    /// The event's `id`.
    public var id: String { member("id")?.stringValue ?? "" }

    /// The event's log position.
    public var seq: UInt64 { stamp?.seq ?? UInt64(member("seq")?.integerValue ?? 0) }

    /// The event's `type`.
    public var type: String { member("type")?.stringValue ?? "" }

    /// Canonical JSON of the event without `prev` and `hash` — what the store chains.
    public func canonicalBody() -> [UInt8] {
        if let client = canonicalClient, let body = withAddedMembers({ FlatCanonical.inserting($0, into: client) }) {
            return body
        }
        return CanonicalJSON.encode(fields)
    }

    public static func == (lhs: StoredEvent, rhs: StoredEvent) -> Bool { lhs.fields == rhs.fields }

    public func hash(into hasher: inout Hasher) { hasher.combine(fields) }

    /// Members the daemon adds to a posted fact; not part of what the client sent.
    public static let daemonMembers: Set<String> = [
        "seq", "recorded_at", "prev", "hash", "attribution", "referrer", "self_referrer", "code_assigned",
    ]

    /// What the client posted (time normalized): the members idempotency compares. A code
    /// the daemon assigned is not among them.
    public var clientFields: JSONObject {
        var client = fields
        for member in fields.keys where Self.daemonMembers.contains(member) { client[member] = nil }
        if fields["code_assigned"] == .bool(true) { client["code"] = nil }
        return client
    }
}
