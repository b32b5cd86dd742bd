/// One event as the log holds it (SPEC §2 "Stored events"), without its chain members
/// `prev` and `hash`, which the store adds.
public struct StoredEvent: Sendable, Hashable {
    /// Every member but `prev` and `hash`.
    public var fields: JSONObject {
        didSet { canonicalClient = nil }
    }
    /// The fact's canonical client fields (``FlatCanonical``), from which ``canonicalBody()``
    /// is written without the general encoder — when asked for (at commit, on every core), not
    /// when the fact is applied. Dropped when `fields` change.
    private var canonicalClient: [UInt8]?

    public init(fields: JSONObject) { self.fields = fields }

    /// The stored form of a fact at `seq`, recorded at `recordedAt`: its client fields plus
    /// `seq` and `recorded_at`.
    public init(fact: Fact, seq: UInt64, recordedAt: Timestamp) {
        self.init(fact: fact, seq: seq, recordedAtText: recordedAt.description)
    }

    /// The stored form of a decoded fact, with `recorded_at` already written out. A decoded
    /// fact has neither `seq` nor `recorded_at` (the decoder refuses unknown fields).
    init(fact: Fact, seq: UInt64, recordedAtText: String) {
        var fields = fact.clientFields
        // Room for seq and recorded_at, and for what a signup's decision adds.
        fields.reserveCapacity(fields.count + 6)
        fields.appendNew("seq", .integer(Int64(seq)))
        fields.appendNew("recorded_at", .string(recordedAtText))
        self.fields = fields
        canonicalClient = fact.canonicalClient
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
        fields = object
    }

    /// The event's `id`.
    public var id: String { fields["id"]?.stringValue ?? "" }

    /// The event's log position.
    public var seq: UInt64 { UInt64(fields["seq"]?.integerValue ?? 0) }

    /// The event's `type`.
    public var type: String { fields["type"]?.stringValue ?? "" }

    /// Canonical JSON of the event without `prev` and `hash` — what the store chains.
    public func canonicalBody() -> [UInt8] {
        if let client = canonicalClient, let recordedAt = fields["recorded_at"]?.stringValue,
            let body = FlatCanonical.addingSeqAndRecordedAt(to: client, seq: seq, recordedAt: recordedAt)
        {
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
